package abi

import (
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// LoadOptions tunes Load. The zero value reads only the file itself, so the
// same file gives the same result on every machine.
type LoadOptions struct {
	// DebugDirs are roots to search for separate debug info when the file
	// has no DWARF of its own, the way gdb does: DIR/.build-id/xx/yyyy.debug
	// by the file's build-id, then by its .gnu_debuglink name in
	// DIR/<file's directory>/, the file's own directory, and its .debug/.
	// Debian's libc6-dbg installs glibc's under /usr/lib/debug.
	DebugDirs []string
}

// Load reads the ABI of the ELF file at path from the file alone.
func Load(path string) (*Library, error) {
	return LoadWith(path, LoadOptions{})
}

// LoadWith reads the ABI of the ELF file at path.
func LoadWith(path string, opts LoadOptions) (*Library, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("abi: open %s: %w", path, err)
	}
	defer f.Close()
	lib, err := readELF(f, filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("abi: %s: %w", path, err)
	}
	lib.normalize() // readTypes names anonymous types in symbol order
	if err := readTypes(lib, f, path, opts); err != nil {
		return nil, fmt.Errorf("abi: %s: %w", path, err)
	}
	lib.normalize()
	return lib, nil
}

// readELF fills in everything that comes from the ELF structures alone.
func readELF(f *elf.File, base string) (*Library, error) {
	lib := &Library{
		Format:        Format,
		FormatVersion: FormatVersion,
		File:          base,
		Machine:       machineName(f.Machine),
		Needed:        []string{},
		Versions:      []VersionDef{},
		Symbols:       []Symbol{},
		Types:         []Layout{},
	}
	if f.Type != elf.ET_DYN && f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("ELF type %v is neither a shared object nor an executable", f.Type)
	}
	if f.SectionByType(elf.SHT_DYNAMIC) == nil && progHeader(f, elf.PT_DYNAMIC) == nil {
		return nil, errors.New("no dynamic section: a static file has no dynamic ABI")
	}

	sonames, err := f.DynString(elf.DT_SONAME)
	if err != nil {
		return nil, fmt.Errorf("reading DT_SONAME: %w", err)
	}
	if len(sonames) > 0 {
		lib.SONAME = sonames[0]
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		return nil, fmt.Errorf("reading DT_NEEDED: %w", err)
	}
	lib.Needed = append(lib.Needed, needed...)
	if lib.Interp, err = readInterp(f); err != nil {
		return nil, err
	}
	lib.Kind = fileKind(f, lib)

	if lib.Versions, err = readVersionDefs(f); err != nil {
		return nil, err
	}
	if lib.Symbols, err = readSymbols(f, lib.Versions); err != nil {
		return nil, err
	}
	return lib, nil
}

// readInterp returns PT_INTERP without its terminating NUL.
func readInterp(f *elf.File) (string, error) {
	p := progHeader(f, elf.PT_INTERP)
	if p == nil {
		return "", nil
	}
	if p.Filesz > 4096 {
		return "", fmt.Errorf("PT_INTERP of %d bytes is not a path", p.Filesz)
	}
	buf := make([]byte, p.Filesz)
	if _, err := p.ReadAt(buf, 0); err != nil {
		return "", fmt.Errorf("reading PT_INTERP: %w", err)
	}
	return strings.TrimRight(string(buf), "\x00"), nil
}

func progHeader(f *elf.File, t elf.ProgType) *elf.Prog {
	for _, p := range f.Progs {
		if p.Type == t {
			return p
		}
	}
	return nil
}

// fileKind tells a program from a library. A PIE is ET_DYN like a library,
// so ET_DYN counts as an executable when it says so (DF_1_PIE) or when it
// has a loader and no SONAME. glibc's libc.so.6 has a PT_INTERP (it can be
// run) but also a SONAME, so it stays a library.
func fileKind(f *elf.File, lib *Library) string {
	if f.Type == elf.ET_EXEC {
		return KindExecutable
	}
	if flags, err := f.DynValue(elf.DT_FLAGS_1); err == nil && len(flags) > 0 &&
		flags[0]&uint64(elf.DF_1_PIE) != 0 {
		return KindExecutable
	}
	if lib.Interp != "" && lib.SONAME == "" {
		return KindExecutable
	}
	return KindSharedObject
}

// machineName maps the ELF machine to the names Redox targets use.
func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i686"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// normalize puts every list in its canonical order so that two loads of
// the same interface marshal to the same bytes.
func (l *Library) normalize() {
	sort.SliceStable(l.Symbols, func(i, j int) bool {
		a, b := l.Symbols[i], l.Symbols[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	sort.SliceStable(l.Types, func(i, j int) bool { return l.Types[i].Name < l.Types[j].Name })
}
