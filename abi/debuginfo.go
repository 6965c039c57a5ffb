package abi

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// hasOwnDWARF reports whether the file carries type information itself.
// .debug_info is what matters: a file with only line tables or only
// .debug_frame has no types to compare.
func hasOwnDWARF(f *elf.File) bool {
	for _, name := range []string{".debug_info", ".zdebug_info"} {
		if s := f.Section(name); s != nil && s.Type != elf.SHT_NOBITS && s.Size > 0 {
			return true
		}
	}
	return false
}

// openSeparateDebug finds the separate debug file of f (read from path)
// under dirs, the way gdb does, and opens it. It returns nil when there is
// none; a candidate that exists but belongs to another build is skipped,
// not trusted, because its types would describe a different library.
func openSeparateDebug(f *elf.File, path string, dirs []string) (*elf.File, string, error) {
	if len(dirs) == 0 {
		return nil, DebugNone, nil
	}
	if id := buildID(f); len(id) >= 2 {
		h := hex.EncodeToString(id)
		for _, d := range dirs {
			cand := filepath.Join(d, ".build-id", h[:2], h[2:]+".debug")
			df, err := elf.Open(cand)
			if err != nil {
				continue
			}
			if bytes.Equal(buildID(df), id) && hasOwnDWARF(df) {
				return df, DebugBuildID, nil
			}
			df.Close()
		}
	}
	name, crc, ok := debuglink(f)
	if !ok {
		return nil, DebugNone, nil
	}
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	cands := []string{filepath.Join(dir, name), filepath.Join(dir, ".debug", name)}
	for _, d := range dirs {
		cands = append(cands, filepath.Join(d, dir, name))
	}
	for _, cand := range cands {
		if filepath.Clean(cand) == filepath.Clean(path) {
			continue
		}
		sum, err := fileCRC32(cand)
		if err != nil || sum != crc {
			continue
		}
		df, err := elf.Open(cand)
		if err != nil {
			return nil, DebugNone, fmt.Errorf("opening debug file %s: %w", cand, err)
		}
		if hasOwnDWARF(df) {
			return df, DebugDebuglink, nil
		}
		df.Close()
	}
	return nil, DebugNone, nil
}

// buildID returns the NT_GNU_BUILD_ID note's descriptor, or nil.
func buildID(f *elf.File) []byte {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		if id := findNote(data, f.ByteOrder, "GNU", 3); id != nil {
			return id
		}
	}
	return nil
}

// findNote walks an ELF note section (namesz, descsz, type, name, desc,
// each of name and desc padded to 4 bytes) for a note of the given owner
// and type.
func findNote(data []byte, bo interface{ Uint32([]byte) uint32 }, owner string, typ uint32) []byte {
	for len(data) >= 12 {
		namesz, descsz, t := bo.Uint32(data), bo.Uint32(data[4:]), bo.Uint32(data[8:])
		data = data[12:]
		nameEnd := align4(uint64(namesz))
		descEnd := nameEnd + align4(uint64(descsz))
		if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) {
			return nil
		}
		name := string(bytes.TrimRight(data[:namesz], "\x00"))
		if name == owner && t == typ {
			return append([]byte(nil), data[nameEnd:nameEnd+uint64(descsz)]...)
		}
		data = data[descEnd:]
	}
	return nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// debuglink returns the file name and CRC32 of .gnu_debuglink.
func debuglink(f *elf.File) (string, uint32, bool) {
	s := f.Section(".gnu_debuglink")
	if s == nil {
		return "", 0, false
	}
	data, err := s.Data()
	if err != nil {
		return "", 0, false
	}
	nul := bytes.IndexByte(data, 0)
	if nul <= 0 {
		return "", 0, false
	}
	off := align4(uint64(nul + 1))
	if off+4 > uint64(len(data)) {
		return "", 0, false
	}
	name := string(data[:nul])
	if filepath.Base(name) != name {
		return "", 0, false // a debuglink is a bare file name
	}
	return name, f.ByteOrder.Uint32(data[off:]), true
}

func fileCRC32(path string) (uint32, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, fh); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}
