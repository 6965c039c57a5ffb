package replay

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Options are a replay host's settings (matrix Host.Options).
type Options struct {
	// Speed divides every delay: 2 plays twice as fast, 0.5 half as fast (default 1).
	Speed float64
	// StallAfterLine, when >= 0, stops the output after that many lines of the transcript
	// (after its comment header): the stream stays open and silent, as a hung machine's
	// console does. -1 (the default) plays everything.
	StallAfterLine int
	// LineDelay is the pause between lines when the transcript has no .times file
	// (default 2ms; 0 plays as fast as the reader takes it).
	LineDelay time.Duration
}

// DefaultOptions are the settings of a replay host without options.
func DefaultOptions() Options {
	return Options{Speed: 1, StallAfterLine: -1, LineDelay: 2 * time.Millisecond}
}

var knownOptions = []string{"line_delay", "speed", "stall_after_line"}

// DecodeOptions reads the options map of a matrix host strictly: unknown keys, wrong
// types and out-of-range values are errors naming the key.
//
// TODO: use matrix.DecodeOptions (being written in the matrix package) once it lands, so
// every host kind reports option errors the same way, with the matrix file position.
func DecodeOptions(m map[string]any) (Options, error) {
	o := DefaultOptions()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		var err error
		switch k {
		case "speed":
			o.Speed, err = asFloat(v)
			if err == nil && (o.Speed <= 0 || math.IsInf(o.Speed, 0) || math.IsNaN(o.Speed)) {
				err = fmt.Errorf("must be a number > 0, got %v", v)
			}
		case "stall_after_line":
			var n int64
			n, err = asInt(v)
			if err == nil && (n < 0 || n > math.MaxInt32) {
				err = fmt.Errorf("must be a line count >= 0, got %v", v)
			}
			o.StallAfterLine = int(n)
		case "line_delay":
			o.LineDelay, err = asDuration(v)
			if err == nil && o.LineDelay < 0 {
				err = fmt.Errorf("must not be negative, got %v", v)
			}
		default:
			err = fmt.Errorf("unknown option (replay knows %s)", strings.Join(knownOptions, ", "))
		}
		if err != nil {
			return Options{}, fmt.Errorf("options.%s: %w", k, err)
		}
	}
	return o, nil
}

func asFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	}
	return 0, fmt.Errorf("must be a number, got %T %v", v, v)
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("out of range: %v", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("must be a whole number, got %v", x)
		}
		return int64(x), nil
	}
	return 0, fmt.Errorf("must be an integer, got %T %v", v, v)
}

func asDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("must be a duration such as \"2ms\": %v", err)
		}
		return d, nil
	case time.Duration:
		return x, nil
	}
	return 0, fmt.Errorf("must be a duration string such as \"2ms\", got %T %v", v, v)
}
