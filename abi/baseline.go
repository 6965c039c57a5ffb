package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// A baseline is a Library as JSON: the fields of Library, Symbol, Layout
// and Member under their json tags, lists in canonical order (symbols by
// name then version, types by name), two-space indentation, no HTML
// escaping (type names contain '<' and '>'), and a final newline. The same
// interface therefore always gives the same bytes, and a baseline change
// in review is a readable line diff.

// MarshalBaseline renders lib as a baseline file.
func MarshalBaseline(lib *Library) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(lib); err != nil {
		return nil, fmt.Errorf("abi: encoding baseline: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteBaseline writes lib to w as a baseline file.
func WriteBaseline(w io.Writer, lib *Library) error {
	b, err := MarshalBaseline(lib)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ParseBaseline reads a baseline file. It is strict: unknown fields, a
// missing or foreign format marker, a newer format version, duplicate
// symbols or types, and fields that contradict each other are errors, so a
// damaged or hand-edited baseline fails loudly instead of hiding breaks.
func ParseBaseline(data []byte) (*Library, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var lib Library
	if err := dec.Decode(&lib); err != nil {
		return nil, fmt.Errorf("abi: baseline: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("abi: baseline: trailing data after the JSON object")
	}
	if err := lib.validate(); err != nil {
		return nil, fmt.Errorf("abi: baseline: %w", err)
	}
	if lib.Needed == nil {
		lib.Needed = []string{}
	}
	if lib.Versions == nil {
		lib.Versions = []VersionDef{}
	}
	if lib.Symbols == nil {
		lib.Symbols = []Symbol{}
	}
	if lib.Types == nil {
		lib.Types = []Layout{}
	}
	for i := range lib.Types {
		if lib.Types[i].Members == nil {
			lib.Types[i].Members = []Member{}
		}
	}
	for i := range lib.Symbols {
		if s := lib.Symbols[i].Signature; s != nil && s.Params == nil {
			s.Params = []string{}
		}
	}
	lib.normalize()
	return &lib, nil
}

// validate checks what the JSON decoder cannot.
func (l *Library) validate() error {
	if l.Format != Format {
		return fmt.Errorf("format is %q, not %q: not an ABI baseline", l.Format, Format)
	}
	if l.FormatVersion < 1 || l.FormatVersion > FormatVersion {
		return fmt.Errorf("format_version %d is not supported (this tool reads 1 to %d)", l.FormatVersion, FormatVersion)
	}
	if l.Kind != KindSharedObject && l.Kind != KindExecutable {
		return fmt.Errorf("kind %q is neither %q nor %q", l.Kind, KindSharedObject, KindExecutable)
	}
	switch l.DebugInfo {
	case DebugNone, DebugEmbedded, DebugBuildID, DebugDebuglink:
	default:
		return fmt.Errorf("unknown debug_info %q", l.DebugInfo)
	}
	seen := map[string]bool{}
	for i, s := range l.Symbols {
		if s.Name == "" {
			return fmt.Errorf("symbol %d has no name", i)
		}
		if seen[s.Key()] {
			return fmt.Errorf("symbol %s listed twice", s.Key())
		}
		seen[s.Key()] = true
		if err := s.validate(l.HasDWARF()); err != nil {
			return fmt.Errorf("symbol %s: %w", s.Key(), err)
		}
	}
	types := map[string]bool{}
	for i, t := range l.Types {
		if !l.HasDWARF() {
			return errors.New("types listed but debug_info is empty (symbol level only)")
		}
		if t.Name == "" {
			return fmt.Errorf("type %d has no name", i)
		}
		if types[t.Name] {
			return fmt.Errorf("type %s listed twice", t.Name)
		}
		types[t.Name] = true
		for j, m := range t.Members {
			if m.Type == "" {
				return fmt.Errorf("type %s member %d has no type", t.Name, j)
			}
		}
	}
	return nil
}

func (s Symbol) validate(hasDWARF bool) error {
	switch s.Kind {
	case SymFunc, SymIFunc, SymObject, SymTLS, SymCommon, SymNoType:
	default:
		return fmt.Errorf("unknown kind %q", s.Kind)
	}
	switch s.Binding {
	case "global", "weak", "unique":
	default:
		return fmt.Errorf("unknown binding %q", s.Binding)
	}
	if s.Visibility != "default" && s.Visibility != "protected" {
		return fmt.Errorf("visibility %q is not exported", s.Visibility)
	}
	if s.Hidden && s.Version == "" {
		return errors.New("hidden without a version")
	}
	if (s.Signature != nil || s.Type != "") && !hasDWARF {
		return errors.New("has types but debug_info is empty (symbol level only)")
	}
	if s.Signature != nil && !s.IsFunc() {
		return errors.New("signature on a non-function")
	}
	if s.Type != "" && s.IsFunc() {
		return errors.New("object type on a function")
	}
	return nil
}

// elfMagic starts every ELF file.
var elfMagic = []byte("\x7fELF")

// Open reads either side of a comparison: an ELF file (through LoadWith)
// or a baseline file, told apart by the ELF magic number.
func Open(path string, opts LoadOptions) (*Library, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	head := make([]byte, len(elfMagic))
	n, _ := io.ReadFull(f, head)
	f.Close()
	if n == len(elfMagic) && bytes.Equal(head, elfMagic) {
		return LoadWith(path, opts)
	}
	data, err := inputfile.ReadFile(path, inputfile.BaselineLimit, "an ABI baseline")
	if err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("abi: %s: neither an ELF file nor an ABI baseline (JSON)", path)
	}
	lib, err := ParseBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lib, nil
}
