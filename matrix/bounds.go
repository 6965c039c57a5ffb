package matrix

import (
	"bytes"
	"fmt"
)

// MaxFileSize bounds a matrix file (a real one is a few kB): checked before the YAML
// parser sees it, as is the nesting depth, because the parser's time and memory grow with
// the square of the depth (a 200 kB file of 100,000 nested lists took a minute and 15 GB).
const MaxFileSize = 1 << 20

// utf8BOM is the byte-order mark some editors put at the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// checkBounds refuses a matrix over MaxFileSize or nested deeper than maxDepth, at the
// place where the limit is crossed.
func checkBounds(name string, data []byte) *Error {
	if len(data) > MaxFileSize {
		return &Error{File: name, Msg: fmt.Sprintf("the matrix is %d bytes, over the %d-byte limit (%d KiB) for a matrix file", len(data), MaxFileSize, MaxFileSize>>10)}
	}
	if line, col, ok := deeperThan(data, maxDepth); ok {
		return &Error{File: name, Line: line, Col: col, Msg: fmt.Sprintf("nesting deeper than %d levels (lists and mappings inside each other): refused before parsing", maxDepth)}
	}
	return nil
}

// deeperThan scans YAML text without parsing it and reports the first place (1-based
// line and column) where the nesting of collections exceeds limit. It over-estimates
// rather than under-estimates: block nesting is the stack of indentations plus compact
// "- - " sequences on a line, flow nesting the open [ and { outside quotes and comments.
// Block scalars (| and >) are skipped. Linear in the size of data.
func deeperThan(data []byte, limit int) (line, col int, deep bool) {
	var (
		indents    []int // block indentation stack
		flow       int   // open flow collections
		quote      byte  // open quote across lines in flow context (' or ")
		scalarOver = -1  // inside a block scalar: skip lines indented more than this
	)
	for n, l := range bytes.Split(data, []byte("\n")) {
		line = n + 1
		l = bytes.TrimSuffix(l, []byte("\r"))
		ind := 0
		for ind < len(l) && l[ind] == ' ' {
			ind++
		}
		rest := l[ind:]
		blank := len(bytes.TrimSpace(rest)) == 0 || rest[0] == '#'
		if scalarOver >= 0 {
			if blank || ind > scalarOver {
				continue
			}
			scalarOver = -1
		}
		if blank && quote == 0 {
			continue
		}
		depth := 0
		i := ind
		if flow == 0 && quote == 0 {
			for len(indents) > 0 && indents[len(indents)-1] >= ind {
				indents = indents[:len(indents)-1]
			}
			indents = append(indents, ind)
			// Compact nested sequences and explicit keys on one line: "- - - x".
			for i < len(l) && (l[i] == '-' || l[i] == '?') && (i+1 == len(l) || l[i+1] == ' ') {
				depth++
				i += 2
				for i < len(l) && l[i] == ' ' {
					i++
				}
			}
		}
		valueStart := true
		for ; i < len(l); i++ {
			c := l[i]
			if quote != 0 {
				switch {
				case quote == '"' && c == '\\':
					i++
				case c == quote && quote == '\'' && i+1 < len(l) && l[i+1] == '\'':
					i++
				case c == quote:
					quote = 0
				}
				continue
			}
			switch {
			case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
				i = len(l)
				continue
			case (c == '"' || c == '\'') && valueStart: // "don't" is a plain scalar
				quote = c
			case (c == '[' || c == '{') && (valueStart || flow > 0):
				flow++
				if len(indents)+depth+flow > limit {
					return line, i + 1, true
				}
			case (c == ']' || c == '}') && flow > 0:
				flow--
			case (c == '|' || c == '>') && valueStart && flow == 0:
				scalarOver = ind
			}
			switch c {
			case ' ', '\t':
			case ':', '-', ',', '?', '[', '{':
				valueStart = true
				continue
			default:
				valueStart = false
			}
		}
		// A quote left open in block context ends with its line (a plain scalar with an
		// apostrophe, "don't"); in flow context a quoted string may span lines.
		if flow == 0 && quote == '\'' {
			quote = 0
		}
		if len(indents)+depth+flow > limit {
			return line, ind + 1, true
		}
	}
	return 0, 0, false
}
