package replay

import (
	"math"
	"time"

	"github.com/redox-hwtest/redox-hwtest/matrix"
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
	// Baud, when > 0, paces a transcript without a .times file as a UART at that rate
	// would deliver it (10 bits per byte: 8N1), line by line, each line written when its
	// last byte would have arrived; it replaces LineDelay.
	Baud int
}

// DefaultOptions are the settings of a replay host without options.
func DefaultOptions() Options {
	return Options{Speed: 1, StallAfterLine: -1, LineDelay: 2 * time.Millisecond}
}

// matrixOptions is the host's `options:` block as the matrix file spells it.
type matrixOptions struct {
	Speed          *float64         `yaml:"speed"`
	StallAfterLine *int             `yaml:"stall_after_line"`
	LineDelay      *matrix.Duration `yaml:"line_delay"`
	Baud           *int             `yaml:"baud"`
}

// DecodeOptions reads a replay host's options strictly (matrix.Host.DecodeOptions: unknown
// keys and wrong types are errors at their file:line:col) and checks the values' ranges.
func DecodeOptions(h *matrix.Host) (Options, error) {
	o := DefaultOptions()
	var raw matrixOptions
	if err := h.DecodeOptions(&raw); err != nil {
		return Options{}, err
	}
	if raw.Speed != nil {
		if v := *raw.Speed; v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return Options{}, h.Errorf("options.speed", "speed must be a number > 0, got %v", v)
		}
		o.Speed = *raw.Speed
	}
	if raw.StallAfterLine != nil {
		if n := *raw.StallAfterLine; n < 0 || n > math.MaxInt32 {
			return Options{}, h.Errorf("options.stall_after_line", "stall_after_line must be a line count >= 0, got %d", n)
		}
		o.StallAfterLine = *raw.StallAfterLine
	}
	if raw.LineDelay != nil {
		if raw.LineDelay.Duration < 0 {
			return Options{}, h.Errorf("options.line_delay", "line_delay must not be negative, got %v", raw.LineDelay.Duration)
		}
		o.LineDelay = raw.LineDelay.Duration
	}
	if raw.Baud != nil {
		if b := *raw.Baud; b < 50 || b > 4000000 {
			return Options{}, h.Errorf("options.baud", "baud must be a rate between 50 and 4000000, got %d", b)
		}
		o.Baud = *raw.Baud
	}
	return o, nil
}
