package imagecache_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
)

// FuzzParseSums: any listing parses without panicking, every entry it keeps is a name
// without "/" and a lower-case digest, and writing the entries back the way sha256sum -b
// does reads back the same; Newest picks a name that matches.
func FuzzParseSums(f *testing.F) {
	d := strings.Repeat("0123456789abcdef", 4)
	f.Add([]byte(d+" *redox_desktop_0.9.0-12-gabc_harddrive.img.zst\n"+d+"  redox_desktop_2026-11-21_412_harddrive.img.zst\r\n"), "redox_desktop_*_harddrive.img.zst")
	f.Add([]byte("garbage\n\n"+d+" *./a\n"), "*")
	f.Fuzz(func(t *testing.T, data []byte, pattern string) {
		sums := imagecache.ParseSums(data)
		var b strings.Builder
		for name, digest := range sums {
			if strings.Contains(name, "/") || name == "" || name == "." || name == ".." || len(digest) != 64 || strings.ToLower(digest) != digest {
				t.Fatalf("kept %q -> %q", name, digest)
			}
			fmt.Fprintf(&b, "%s *%s\n", digest, name)
		}
		again := imagecache.ParseSums([]byte(b.String()))
		if len(again) != len(sums) {
			t.Fatalf("round trip kept %d of %d", len(again), len(sums))
		}
		for name, digest := range sums {
			if again[name] != digest {
				t.Fatalf("round trip changed %q", name)
			}
		}
		if n := imagecache.Newest(sums, pattern); n != "" {
			if _, ok := sums[n]; !ok {
				t.Fatalf("newest %q is not listed", n)
			}
		}
	})
}
