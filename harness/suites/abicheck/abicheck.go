// Package abicheck is the ABI suite's job: compare an image's relibc (libc.so and its
// loader, taken from a sysroot the matrix names — a Redox build tree has them) with the
// image's ABI baseline, and report one check per class of break, so a nightly run says
// "abi/signatures FAIL" rather than one opaque failure.
package abicheck

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/abi"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func init() {
	job.RegisterSuite("abi", job.SuiteDef{Run: Run, OncePerImage: true,
		Checks: func(*matrix.Matrix, matrix.Job) []string { return CheckNames() }})
}

// Classes groups break kinds into the checks the suite reports, in report order.
var Classes = []struct {
	Check string
	Kinds []abi.Kind
}{
	{"abi/soname", []abi.Kind{abi.SONAMEChanged, abi.MachineChanged}},
	{"abi/symbols", []abi.Kind{abi.SymbolRemoved, abi.SymbolKindChanged, abi.SymbolSizeChanged, abi.ObjectTypeChanged}},
	{"abi/versioned", []abi.Kind{abi.VersionedSymbolRemoved}},
	{"abi/signatures", []abi.Kind{abi.SignatureChanged}},
	{"abi/layouts", []abi.Kind{abi.TypeSizeChanged, abi.TypeAlignChanged, abi.MemberRemoved, abi.MemberOffsetChanged, abi.MemberTypeChanged, abi.MemberBitsChanged}},
	{"abi/loader", []abi.Kind{abi.InterpMismatch}},
}

// CheckNames lists the suite's checks.
func CheckNames() []string {
	var n []string
	for _, c := range Classes {
		n = append(n, c.Check)
	}
	return n
}

// libcCandidates are where a sysroot keeps relibc's shared libc.
var libcCandidates = []string{"usr/lib/libc.so", "lib/libc.so", "usr/lib/libc.so.6", "lib/libc.so.6"}

// FindLibc returns the libc.so of a sysroot.
func FindLibc(sysroot string) (string, error) {
	for _, c := range libcCandidates {
		p := filepath.Join(sysroot, c)
		if isELF(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no libc.so in sysroot %s (looked for %s)", sysroot, strings.Join(libcCandidates, ", "))
}

// findExecutable returns a dynamically linked executable of the sysroot, whose PT_INTERP
// must name the platform loader.
func findExecutable(sysroot string) string {
	for _, dir := range []string{"usr/bin", "bin"} {
		ents, _ := os.ReadDir(filepath.Join(sysroot, dir))
		for _, e := range ents {
			p := filepath.Join(sysroot, dir, e.Name())
			if f, err := elf.Open(p); err == nil {
				dyn := false
				for _, prog := range f.Progs {
					dyn = dyn || prog.Type == elf.PT_INTERP
				}
				f.Close()
				if dyn {
					return p
				}
			}
		}
	}
	return ""
}

func isELF(p string) bool {
	b := make([]byte, 4)
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Read(b)
	return err == nil && bytes.Equal(b, []byte("\x7fELF"))
}

// Checks compares the sysroot's libc with the baseline and returns one check per class.
// A missing or unreadable input is INFRA (the lab did not provide what the matrix named).
func Checks(img matrix.Image) []record.Check {
	infra := func(err error) []record.Check {
		var cs []record.Check
		for _, c := range Classes {
			cs = append(cs, record.Check{Name: c.Check, Verdict: record.Infra, Message: err.Error()})
		}
		return cs
	}
	if img.ABIBaseline == "" || img.Sysroot == "" {
		var cs []record.Check
		for _, c := range Classes {
			cs = append(cs, record.Check{Name: c.Check, Verdict: record.Skip, Message: "image has no abi_baseline and sysroot"})
		}
		return cs
	}
	old, err := abi.Open(img.ABIBaseline, abi.LoadOptions{})
	if err != nil {
		return infra(fmt.Errorf("baseline: %w", err))
	}
	libc, err := FindLibc(img.Sysroot)
	if err != nil {
		return infra(err)
	}
	cur, err := abi.Load(libc)
	if err != nil {
		return infra(fmt.Errorf("%s: %w", libc, err))
	}
	rep := abi.Compare(old, cur, abi.Options{})
	var changes []abi.Change
	changes = append(changes, rep.Changes...)
	loaderNote := "no dynamically linked executable in the sysroot to check PT_INTERP"
	if exe := findExecutable(img.Sysroot); exe != "" {
		if lib, err := abi.Load(exe); err == nil {
			cs, note := abi.CheckInterp(lib, "")
			changes = append(changes, cs...)
			loaderNote = "PT_INTERP of " + filepath.Base(exe) + " checked"
			if note != "" {
				loaderNote += "; " + note
			}
		}
	}
	byKind := map[abi.Kind][]abi.Change{}
	for _, c := range changes {
		if c.Class == abi.Break {
			byKind[c.Kind] = append(byKind[c.Kind], c)
		}
	}
	notes := strings.Join(rep.Notes, "; ")
	var out []record.Check
	for _, cl := range Classes {
		var lines []string
		for _, k := range cl.Kinds {
			for _, c := range byKind[k] {
				lines = append(lines, fmt.Sprintf("%s %s: %s -> %s", c.Kind, c.Subject, c.Old, c.New))
			}
		}
		sort.Strings(lines)
		c := record.Check{Name: cl.Check, Verdict: record.Pass, Message: "no break"}
		if cl.Check == "abi/loader" {
			c.Message = loaderNote
		} else if rep.SymbolLevelOnly && (cl.Check == "abi/signatures" || cl.Check == "abi/layouts") {
			c.Message = "not checked: symbol level only (no DWARF in the library or the baseline)"
		}
		if len(lines) > 0 {
			c.Verdict = record.Fail
			c.Message = fmt.Sprintf("%d break(s): %s", len(lines), strings.Join(lines, "; "))
			c.Excerpt = strings.Join(lines, "\n")
		}
		if notes != "" && c.Verdict == record.Pass {
			c.Message += " (" + notes + ")"
		}
		out = append(out, c)
	}
	return out
}

// Run is the suite runner: no boot, just the comparison, with the host's xfails applied.
func Run(ctx context.Context, m *matrix.Matrix, j matrix.Job, o job.Options) (*record.Record, error) {
	start := time.Now()
	checks := Checks(j.Image)
	for i := range checks {
		if x := j.Host.XFailFor(checks[i].Name, j.Image.Name); x != nil {
			checks[i].Verdict = checks[i].Verdict.ApplyXFail()
			checks[i].Reference = x.Reference
		}
	}
	r := job.RecordWithoutBoot(j, start, checks)
	_, err := record.Write(o.RunDir, r)
	return r, err
}
