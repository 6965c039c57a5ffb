package matrix

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ModulePath is this project's Go module, the one ModuleRoot looks for.
const ModulePath = "github.com/redox-hwtest/redox-hwtest"

// ModuleRoot is the directory of this project's go.mod, found by walking up from the
// working directory. `go test` runs each suite binary in its package's folder, so this
// is how a suite finds files named relative to the repository.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if modulePathOf(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s in %s or above", ModulePath, wd)
		}
		dir = parent
	}
}

// modulePathOf reads the module line of a go.mod ("" if there is none).
func modulePathOf(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		return strings.Trim(strings.TrimSpace(rest), `"`+"`")
	}
	return ""
}

// ResolvePath makes a -matrix argument absolute: an absolute path is kept (cleaned), a
// relative one resolves against the module root (ModuleRoot), not the working
// directory, so `go test ./suites/... -matrix=hw.yaml` means the repository's hw.yaml
// in every suite package. It does not check that the file exists.
func ResolvePath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty matrix path")
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	return filepath.Join(root, p), nil
}

// ReadExample reads one of the repository's example matrices (matrix/examples/name) and
// returns its text and folder: tests hold the host kinds to what the examples promise.
func ReadExample(name string) (data []byte, dir string, err error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, "", err
	}
	dir = filepath.Join(root, "matrix", "examples")
	data, err = os.ReadFile(filepath.Join(dir, name))
	return data, dir, err
}
