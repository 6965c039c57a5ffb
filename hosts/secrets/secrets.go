// Package secrets loads lab passwords (BMC, PDU) and keeps them out of every artifact.
//
// A password never lives in the matrix: a host names an environment variable
// (options.password_env) or a file (options.password_file) and Load reads it from there.
// Every value Load returns is registered with the process-wide Redactor, so Redact (for
// strings: reasons, excerpts, JUnit, JSON, HTML) and the streaming forms (Stream for a
// console stream, Writer for a log, Redactor.Filter for console.Options.Filter) replace it
// wherever it shows up, also when it arrives split across reads.
//
// Handing a secret to another process: put it in that process's environment (ipmitool -E
// reads IPMI_PASSWORD; a PDU script reads the variable it is told about), or in a file of
// mode 0600 (ipmitool -f), never on a command line: /proc/<pid>/cmdline is readable by every
// user of the machine, /proc/<pid>/environ only by the process's owner.//
// It lives under hosts/ because the host kinds (ipmi, power) are the ones that reach the
// lab with these passwords; the harness (job) only registers and redacts through it, and
// hosts may not import the harness (layers: matrix -> hosts -> harness -> reports).
package secrets

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/record/redact"
)

// Source says where a secret comes from; exactly one of Env and File may be set. It is
// meant to be embedded in a host kind's options.
type Source struct {
	// Env names an environment variable holding the secret.
	Env string `yaml:"password_env"`
	// File names a file holding the secret (one line; a trailing newline is dropped). It
	// should be readable by its owner only; a file readable by others is refused.
	File string `yaml:"password_file"`
}

// IsZero reports whether no source is configured.
func (s Source) IsZero() bool { return s.Env == "" && s.File == "" }

// String describes the source without the secret ("env BMC_PASSWORD", "file /etc/...").
func (s Source) String() string {
	switch {
	case s.Env != "":
		return "env " + s.Env
	case s.File != "":
		return "file " + s.File
	}
	return "none"
}

// ErrNoSecret is returned (wrapped) when the named variable is unset or empty or the file
// is empty.
var ErrNoSecret = errors.New("secret is empty or not set")

// Load reads the secret and registers it for redaction. An empty Source yields "" and no
// error (a BMC without a password).
func Load(s Source) (string, error) {
	if s.Env != "" && s.File != "" {
		return "", errors.New("give password_env or password_file, not both")
	}
	var v string
	switch {
	case s.Env != "":
		val, ok := os.LookupEnv(s.Env)
		if !ok || val == "" {
			return "", fmt.Errorf("environment variable %s: %w", s.Env, ErrNoSecret)
		}
		v = val
	case s.File != "":
		fi, err := os.Stat(s.File)
		if err != nil {
			return "", fmt.Errorf("password_file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("password_file %s has mode %v: it must be readable by its owner only (chmod 600)", s.File, fi.Mode().Perm())
		}
		// Bounded, regular files only: a FIFO or /dev/zero named here is bad input, not a hang.
		b, err := inputfile.ReadFile(s.File, 64<<10, "password_file")
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("password_file %s: %w", s.File, err)
		}
		v = strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("password_file %s: %w", s.File, ErrNoSecret)
		}
	default:
		return "", nil
	}
	Register(v)
	return v, nil
}

// Register adds a secret to the process-wide Redactor (Load does this itself).
func Register(secret string) { redact.Register(secret) }

// Redact replaces every registered secret in s.
func Redact(s string) string { return redact.Redact(s) }

// RedactBytes is Redact for bytes (returns b itself when nothing matched).
func RedactBytes(b []byte) []byte { return global.RedactBytes(b) }

// Active reports whether any secret has been registered (callers skip the streaming
// machinery when there is nothing to hide).
func Active() bool { return redact.Active() }

// Global is the process-wide Redactor, record/redact's: the one every record and
// run.json the harness writes passes its strings through (record.Write), so redaction does
// not depend on this package being linked.
func Global() *Redactor { return global }

var global = redact.Global()

// The redactor itself lives in record/redact (a leaf the record writer uses); these names
// keep this package the one place host kinds and the harness load and redact secrets through.
type (
	Redactor = redact.Redactor
	Filter   = redact.Filter
	Writer   = redact.Writer
)

// Mask is what a secret is replaced with.
const Mask = redact.Mask

// New returns a Redactor for the given secrets (not the process-wide one).
func New(secrets ...string) *Redactor { return redact.New(secrets...) }

// Encodings lists the forms a secret may take in a report (see redact.Encodings).
func Encodings(secret string) []string { return redact.Encodings(secret) }

// NewFilter is a streaming filter over the process-wide Redactor.
func NewFilter() *Filter { return redact.NewFilter() }

// NewWriter redacts everything written through it before it reaches w.
func NewWriter(w io.Writer) *Writer { return redact.NewWriter(w) }

// Stream redacts a console stream with the process-wide Redactor.
func Stream(rw io.ReadWriteCloser) io.ReadWriteCloser { return redact.Stream(rw) }

// Env returns environ with name=value appended (after removing any earlier name=), the way
// to hand a secret to a child process without a command line.
func Env(environ []string, name, value string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if strings.HasPrefix(kv, name+"=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, name+"="+value)
}
