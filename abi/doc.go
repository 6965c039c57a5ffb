// Package abi extracts the binary interface of an ELF shared object (or the
// loader facts of an executable) and compares two of them under the Redox
// stable-ABI rules for relibc's libc.so.
//
// What is extracted (see Load):
//
//   - the SONAME, DT_NEEDED, PT_INTERP and ELF machine;
//   - every defined, exported dynamic symbol (default or protected
//     visibility; global, weak or unique binding) with its kind, size and
//     GNU symbol version (versym/verdef) when the library has them;
//   - when DWARF is present, in the file or in separate debug info found by
//     build-id or .gnu_debuglink under LoadOptions.DebugDirs: each exported
//     function's parameter and return types, each exported object's type,
//     and the layout (size, alignment, member offsets and member types) of
//     every struct or union reachable from them.
//
// Type names are canonical rather than as spelled, so that two builds of the
// same interface compare equal even when typedefs, qualifiers or the
// compiler's spelling of base types differ: typedef chains are followed to
// the end, const/volatile are dropped (they do not change the calling
// convention), and base types are named by representation (int32, uint64,
// float64, ...), so `long` from GCC, `long int` from another compiler and
// Rust's `i64` are one type. Structs, unions and enums keep their tag name
// ("struct stat"); an anonymous one is named after the typedef or member
// through which it was first reached ("struct <div_t>", "union <sigaction.u>").
//
// The comparison rules (see Compare) are the Redox ones from the design
// notes: additions are compatible; a removed or renamed export, a changed
// signature, a changed struct size, alignment, member offset or member type,
// a changed SONAME, and (for executables) a PT_INTERP other than the
// platform loader are breaks. A name ending in _vN (redox_open_v1) may only
// disappear when _vN+1 exists in the new library and Options.AllowVersionRetire
// says the release series permits it. That retire rule is this project's policy,
// not upstream's: the Redox book (src/developer-faq.md, "ABI" breaks: a function
// renamed or removed, extern "C" arguments changed, a struct's size or alignment
// changed) says nothing about retiring versions, and relibc's history has never
// retired a _vN name (git log -S finds no removal of redox_open_v0, redox_mmap_v0,
// relibc_start_v0 and the others).
//
// A library without DWARF is still compared symbol by symbol; the Report
// then says "symbol level only: no DWARF".
//
// How DWARF is matched to exports, and its limits:
//
//   - A function is found by its entry address first (aliases such as
//     glibc's open/open64/__libc_open64 share one definition), then by name,
//     which also finds the prototype callers saw for code without DWARF of
//     its own. IFUNCs go by name only: their address is the resolver's.
//     Functions from assembler units (GNU as describes them with no types)
//     and unprototyped C declarations give no signature; such an export is
//     compared by symbol alone and the report notes it.
//   - A declaration-only struct is completed from the first definition of
//     that name in the file; when compile units disagree about a struct,
//     the one reached first (exports in sorted order) is recorded.
//   - Alignment is DW_AT_alignment when the compiler wrote one, else
//     derived from the members (see align.go); an alignment raised with an
//     attribute on a compiler that does not record it is not seen.
//   - Enumerator values, C++ classes beyond their data members, and
//     calling-convention attributes are not compared.
//
// The Library value is also the baseline format: WriteBaseline renders it as
// sorted, indented JSON and ParseBaseline reads it back, so a baseline file
// and a library can stand on either side of a comparison.
package abi
