package abi

import (
	"debug/elf"
	"errors"
	"fmt"
)

// readVersionDefs returns the GNU version definitions (SHT_GNU_verdef) in
// index order; none for an unversioned file.
func readVersionDefs(f *elf.File) ([]VersionDef, error) {
	if f.SectionByType(elf.SHT_GNU_VERDEF) == nil {
		return []VersionDef{}, nil
	}
	defs, err := f.DynamicVersions()
	if err != nil {
		return nil, fmt.Errorf("reading version definitions: %w", err)
	}
	out := make([]VersionDef, 0, len(defs))
	for _, d := range defs {
		out = append(out, VersionDef{
			Name:    d.Name,
			Base:    d.Flags&elf.VER_FLG_BASE != 0,
			Parents: append([]string(nil), d.Deps...),
		})
	}
	return out, nil
}

// readSymbols returns the exported interface: defined dynamic symbols that
// another object can bind to. Local and hidden/internal symbols are not
// interface, and undefined ones are imports, not exports.
func readSymbols(f *elf.File, versions []VersionDef) ([]Symbol, error) {
	syms, err := f.DynamicSymbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			// Every dynamically linked file has a .dynsym; finding none
			// means the section headers were stripped (sstrip). Reading
			// that as "exports nothing" would turn into a bogus baseline.
			return nil, errors.New("no .dynsym section: section headers stripped?")
		}
		return nil, fmt.Errorf("reading dynamic symbols: %w", err)
	}
	isVersionName := make(map[string]bool, len(versions))
	for _, v := range versions {
		isVersionName[v.Name] = true
	}
	out := make([]Symbol, 0, len(syms))
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF {
			continue
		}
		bind := elf.ST_BIND(s.Info)
		binding, ok := bindingName(bind)
		if !ok {
			continue
		}
		vis := elf.ST_VISIBILITY(s.Other)
		if vis != elf.STV_DEFAULT && vis != elf.STV_PROTECTED {
			continue
		}
		// The linker emits one absolute symbol per version node (glibc's
		// "GLIBC_2.2.5"); it names the node and is not an interface.
		if s.Section == elf.SHN_ABS && s.Value == 0 && s.Size == 0 && isVersionName[s.Name] && s.Version == s.Name {
			continue
		}
		out = append(out, Symbol{
			Name:       s.Name,
			Version:    s.Version,
			Hidden:     s.HasVersion && s.VersionIndex.IsHidden(),
			Kind:       symbolKind(s),
			Size:       s.Size,
			Binding:    binding,
			Visibility: visibilityName(vis),
			addr:       s.Value,
		})
	}
	return out, nil
}

func symbolKind(s elf.Symbol) string {
	switch elf.ST_TYPE(s.Info) {
	case elf.STT_FUNC:
		return SymFunc
	case elf.STT_GNU_IFUNC:
		return SymIFunc
	case elf.STT_OBJECT:
		return SymObject
	case elf.STT_TLS:
		return SymTLS
	case elf.STT_COMMON:
		return SymCommon
	}
	if s.Section == elf.SHN_COMMON {
		return SymCommon
	}
	return SymNoType
}

// stbGNUUnique is STB_GNU_UNIQUE, which debug/elf only knows as STB_LOOS.
const stbGNUUnique = elf.STB_LOOS

func bindingName(b elf.SymBind) (string, bool) {
	switch b {
	case elf.STB_GLOBAL:
		return "global", true
	case elf.STB_WEAK:
		return "weak", true
	case stbGNUUnique:
		return "unique", true
	}
	return "", false
}

func visibilityName(v elf.SymVis) string {
	if v == elf.STV_PROTECTED {
		return "protected"
	}
	return "default"
}
