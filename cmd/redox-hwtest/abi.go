package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/abi"
)

func init() {
	register("abi", "dump, diff and check relibc ABIs (libraries, executables, baselines)", runABI)
}

const abiUsage = `usage:
  redox-hwtest abi dump [-debug-dir DIR]... [-o FILE] LIB|EXE
      Print the ABI as baseline JSON (stdout unless -o).
  redox-hwtest abi diff [-allow-version-retire] [-expect-interp PATH] [-debug-dir DIR]... [-json] OLD NEW
      Compare NEW against OLD; each side a library, an executable or a baseline JSON file.
      Exit 0: no break; 1: at least one break; 2: bad input.
  redox-hwtest abi interp [-expect-interp PATH] EXE...
      Print PT_INTERP and DT_NEEDED; exit 1 if PT_INTERP is not the Redox loader for the machine
      (/lib/ld64.so.1 on x86_64, /lib/ld.so.1 on aarch64).
`

func runABI(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, abiUsage)
		return 2
	}
	switch args[0] {
	case "dump":
		return abiDump(args[1:], os.Stdout, os.Stderr)
	case "diff":
		return abiDiff(args[1:], os.Stdout, os.Stderr)
	case "interp":
		return abiInterp(args[1:], os.Stdout, os.Stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, abiUsage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "redox-hwtest abi: unknown subcommand %q\n%s", args[0], abiUsage)
	return 2
}

// dirList is a repeatable -debug-dir flag.
type dirList []string

func (d *dirList) String() string     { return strings.Join(*d, ",") }
func (d *dirList) Set(v string) error { *d = append(*d, v); return nil }

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("redox-hwtest abi "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, abiUsage) }
	return fs
}

func abiDump(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("dump", stderr)
	var dirs dirList
	fs.Var(&dirs, "debug-dir", "root to search for separate debug info (repeatable; e.g. /usr/lib/debug)")
	out := fs.String("o", "", "write the baseline to this file instead of stdout")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "redox-hwtest abi dump: want one file, got %d\n%s", fs.NArg(), abiUsage)
		return 2
	}
	lib, err := abi.LoadWith(fs.Arg(0), abi.LoadOptions{DebugDirs: dirs})
	if err != nil {
		fmt.Fprintf(stderr, "redox-hwtest abi dump: %v\n", err)
		return 2
	}
	if !lib.HasDWARF() {
		fmt.Fprintf(stderr, "redox-hwtest abi dump: %s: symbol level only: no DWARF\n", fs.Arg(0))
	}
	if err := writeTo(*out, stdout, func(w io.Writer) error { return abi.WriteBaseline(w, lib) }); err != nil {
		fmt.Fprintf(stderr, "redox-hwtest abi dump: %v\n", err)
		return 2
	}
	return 0
}

func abiDiff(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("diff", stderr)
	var dirs dirList
	fs.Var(&dirs, "debug-dir", "root to search for separate debug info (repeatable)")
	retire := fs.Bool("allow-version-retire", false,
		"let a _vN export go when _vN+1 exists (only across a release series; default: the old one must stay)")
	interp := fs.String("expect-interp", "", "loader an executable must name (default: the Redox loader for its machine)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of text")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "redox-hwtest abi diff: want OLD and NEW, got %d arguments\n%s", fs.NArg(), abiUsage)
		return 2
	}
	lopts := abi.LoadOptions{DebugDirs: dirs}
	old, err := abi.Open(fs.Arg(0), lopts)
	if err != nil {
		fmt.Fprintf(stderr, "redox-hwtest abi diff: old: %v\n", err)
		return 2
	}
	cur, err := abi.Open(fs.Arg(1), lopts)
	if err != nil {
		fmt.Fprintf(stderr, "redox-hwtest abi diff: new: %v\n", err)
		return 2
	}
	rep := abi.Compare(old, cur, abi.Options{AllowVersionRetire: *retire, ExpectedInterp: *interp})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "redox-hwtest abi diff: writing report: %v\n", err)
		return 2
	}
	if rep.HasBreak() {
		return 1
	}
	return 0
}

func abiInterp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("interp", stderr)
	want := fs.String("expect-interp", "", "loader the executables must name (default: the Redox loader for their machine)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "redox-hwtest abi interp: want at least one executable\n%s", abiUsage)
		return 2
	}
	status := 0
	for _, path := range fs.Args() {
		lib, err := abi.Load(path)
		if err != nil {
			fmt.Fprintf(stderr, "redox-hwtest abi interp: %v\n", err)
			return 2
		}
		if lib.Kind != abi.KindExecutable {
			fmt.Fprintf(stderr, "redox-hwtest abi interp: %s is a shared object, not an executable\n", path)
			return 2
		}
		fmt.Fprintf(stdout, "%s: machine %s, interp %s, needed [%s]\n", path, lib.Machine,
			orDash(lib.Interp), strings.Join(lib.Needed, " "))
		changes, note := abi.CheckInterp(lib, *want)
		if note != "" {
			fmt.Fprintf(stdout, "%s: note: %s\n", path, note)
		}
		for _, c := range changes {
			fmt.Fprintf(stdout, "%s: %s %s: want %s, have %s\n", path, c.Class, c.Kind, c.Old, c.New)
			status = 1
		}
	}
	return status
}

// parseFlags parses args; done is true when the command should stop with
// code (0 after -h, 2 after a bad flag, which flag has already reported).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	}
	return 2, true
}

// writeTo runs write against the named file, or stdout when name is empty.
// A partly written file is removed so a failed dump never leaves a
// truncated baseline behind.
func writeTo(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "" {
		return write(stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return errors.Join(fmt.Errorf("writing %s", name), err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
