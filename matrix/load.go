package matrix

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// LoadOptions change how a matrix is loaded. The zero value is the strict default.
type LoadOptions struct {
	// SkipFileChecks turns off the checks that the files a matrix names (image path,
	// kernel, initrd, transcript, a guest command's expect file) exist: for
	// -ginkgo.dry-run, or to list a matrix on a machine that does not have the images.
	SkipFileChecks bool
	// Kinds are the host kinds the program can run, each with its options check (nil for
	// a kind without options): hosts.OptionChecks() in a program that runs jobs. Given,
	// every host's kind must be one of them and its options are checked here, so a typo
	// is bad input at file:line:col; nil loads the matrix's own structure only (the
	// options are then checked when a job builds its machine). The loader is given them
	// explicitly: what is checked never depends on which packages happen to be linked.
	Kinds map[string]OptionsValidator
}

// Load reads, validates and completes the matrix file at path (relative to the working
// directory; see ResolvePath for the -matrix flag). Every error is a *Error naming path
// as given.
func Load(path string) (*Matrix, error) { return LoadOptions{}.Load(path) }

// Parse decodes a matrix from data. name is used in error messages only; relative file
// names inside the matrix resolve against baseDir ("" is the working directory). Every
// error is a *Error.
func Parse(name string, data []byte, baseDir string) (*Matrix, error) {
	return LoadOptions{}.Parse(name, data, baseDir)
}

// Load is the package-level Load with these options.
func (o LoadOptions) Load(path string) (*Matrix, error) {
	// Only a regular file, and no more than MaxFileSize of it (-matrix /dev/zero, a FIFO
	// or /dev/urandom would otherwise hang or fill memory).
	data, err := inputfile.ReadFile(path, MaxFileSize, "a matrix file")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{File: path, Msg: "cannot read the matrix: " + err.Error()}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	m, perr := o.Parse(path, data, filepath.Dir(abs))
	if perr != nil {
		return nil, perr
	}
	m.Path = abs
	return m, nil
}

// Parse is the package-level Parse with these options.
func (o LoadOptions) Parse(name string, data []byte, baseDir string) (m *Matrix, err error) {
	defer func() {
		// A safety net: no input may panic (FuzzParse checks none reaches here).
		if r := recover(); r != nil {
			m, err = nil, &Error{File: name, Msg: fmt.Sprintf("internal error while decoding: %v", r)}
		}
	}()
	dir, aerr := filepath.Abs(baseDir)
	if aerr != nil {
		return nil, &Error{File: name, Msg: aerr.Error()}
	}
	m, e := o.parse(name, data, dir)
	if e != nil {
		return nil, e
	}
	return m, nil
}

var matrixType = reflect.TypeFor[Matrix]()

func (o LoadOptions) parse(name string, data []byte, dir string) (*Matrix, *Error) {
	// A UTF-8 byte-order mark is accepted (some editors write one); it is not content.
	data = bytes.TrimPrefix(data, utf8BOM)
	if e := checkBounds(name, data); e != nil {
		return nil, e
	}
	src := newSource(name)
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fromYAML(name, err, Pos{})
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if _, ok := d.Body.(*ast.DirectiveNode); ok {
			continue
		}
		if body != nil {
			p, ok := tokenPos(d.Start)
			if !ok {
				p, _ = nodePos(d.Body)
			}
			return nil, &Error{File: name, Line: p.Line, Col: p.Col, Msg: "a matrix is one YAML document; a second one starts here"}
		}
		body = d.Body
	}
	if body == nil {
		return nil, &Error{File: name, Line: 1, Col: 1, Msg: "empty document: a matrix needs at least images and hosts"}
	}
	src.root = body
	w := newWalker(src, body)
	rootPos := w.posOr(body, Pos{1, 1})
	rn, e := w.resolve(body, rootPos)
	if e != nil {
		return nil, e
	}
	if _, ok := rn.(*ast.MappingNode); !ok {
		return nil, w.fail(rootPos, "a matrix must be a mapping with images, hosts and suites, got %s", describe(rn))
	}
	if e := w.walk(matrixType, body, "", "the matrix", "", rootPos, 0); e != nil {
		return nil, e
	}
	m := &Matrix{}
	// The check above has seen every key and type; goccy decodes (strictly, as a
	// backstop). Duplicate keys were refused by the parser and the check, so goccy may
	// allow them: that is what lets keys after "<<: *base" override the merged ones.
	if err := yaml.NodeToValue(body, m, yaml.Strict(), yaml.AllowDuplicateMapKey()); err != nil {
		return nil, fromYAML(name, err, rootPos)
	}
	m.Dir = dir
	m.src = src
	if e := m.validate(); e != nil {
		return nil, e
	}
	if !o.SkipFileChecks {
		if e := m.checkFiles(); e != nil {
			return nil, e
		}
	}
	m.complete()
	// The host kinds' own options checks run on the completed hosts (defaults filled in,
	// positions known), as the machine will see them.
	for i := range m.Hosts {
		if e := m.kindOptions(&m.Hosts[i], o.Kinds); e != nil {
			return nil, e
		}
	}
	return m, nil
}
