package matrix

import (
	"errors"
	"fmt"
	"time"
)

// Duration is a time.Duration written as "30s" in YAML ("1m30s", "500ms", ...: anything
// time.ParseDuration accepts). A bare number is refused because its unit would be a guess.
type Duration struct{ time.Duration }

// ParseDuration parses a "30s"-style duration, refusing a bare number.
func ParseDuration(s string) (Duration, error) {
	if s == "" {
		return Duration{}, errors.New("empty duration")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if isNumber(s) {
			return Duration{}, fmt.Errorf("duration %q needs a unit, e.g. \"%ss\"", s, s)
		}
		return Duration{}, fmt.Errorf("invalid duration %q (want e.g. \"30s\", \"2m\", \"500ms\")", s)
	}
	return Duration{d}, nil
}

// isNumber reports whether s is a plain decimal number such as "30", "-1" or "2.5".
func isNumber(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
		case (r == '-' || r == '+') && i == 0:
		default:
			return false
		}
	}
	return digits > 0
}

// UnmarshalYAML implements goccy/go-yaml's InterfaceUnmarshaler: the node is decoded as a
// string and parsed with ParseDuration.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as "30s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText writes the duration as "30s" (JSON results use this too).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a "30s"-style duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
