package matrix

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
)

// Error is every error Load, Parse and DecodeOptions return: a message with the place in
// the matrix file it is about. Line and Col are 1-based; 0 means the position is unknown.
type Error struct {
	File string // the file name as given to Load or Parse
	Line int
	Col  int
	Msg  string
}

// Error formats the error as FILE:LINE:COL: MESSAGE, or FILE: MESSAGE when the error is
// not about a place in the file (it cannot be read).
func (e *Error) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Pos is a 1-based line and column in a matrix file.
type Pos struct{ Line, Col int }

// String formats the position as LINE:COL.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

func tokenPos(tk *token.Token) (Pos, bool) {
	if tk == nil || tk.Position == nil || tk.Position.Line <= 0 {
		return Pos{}, false
	}
	col := tk.Position.Column
	if col < 1 {
		col = 1
	}
	return Pos{tk.Position.Line, col}, true
}

var (
	reDupKey  = regexp.MustCompile(`^mapping key "(.*)" already defined at \[(\d+):(\d+)\]$`)
	reLeadPos = regexp.MustCompile(`^\[(\d+):(\d+)\] `)
)

// fromYAML converts an error of goccy/go-yaml into an *Error, moving its "[line:col]"
// into our position and keeping only the first line of its message (goccy appends a
// source excerpt with a caret).
func fromYAML(file string, err error, fallback Pos) *Error {
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	e := &Error{File: file, Line: fallback.Line, Col: fallback.Col}
	var ye yaml.Error
	if errors.As(err, &ye) {
		if p, ok := tokenPos(ye.GetToken()); ok {
			e.Line, e.Col = p.Line, p.Col
		}
		e.Msg = ye.GetMessage()
		var se *yaml.SyntaxError
		if errors.As(err, &se) {
			if m := reDupKey.FindStringSubmatch(e.Msg); m != nil {
				e.Msg = fmt.Sprintf("duplicate key %q (first at %s:%s)", m[1], m[2], m[3])
			} else {
				e.Msg = "syntax error: " + e.Msg
			}
		}
	} else {
		e.Msg = firstLine(err.Error())
		// A wrapped goccy error may still start with "[line:col] ".
		if m := reLeadPos.FindStringSubmatch(e.Msg); m != nil {
			l, _ := strconv.Atoi(m[1])
			c, _ := strconv.Atoi(m[2])
			e.Line, e.Col, e.Msg = l, c, e.Msg[len(m[0]):]
		}
	}
	e.Msg = printable(e.Msg)
	if e.Msg == "" {
		e.Msg = "invalid YAML"
	}
	if e.Line < 0 || e.Col < 0 {
		e.Line, e.Col = 0, 0
	}
	return e
}

// printable escapes control characters (goccy quotes a tab as a raw tab).
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
