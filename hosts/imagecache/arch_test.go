package imagecache_test

import (
	"context"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache/imagecachetest"
)

// An i586 folder as redox mk/ci.mk (81bc5bf, target ci-img) fills it for ARCH=i586: server,
// desktop and demo, each a harddrive.img and a livedisk.iso named
// redox_<config>_<git describe tag>_..., zstd-compressed, listed in SHA256SUM. The example
// matrix's desktop-i586 pattern takes the newest desktop hard-drive image.
func TestNewestResolvesI586DailyNames(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	var want, wantDigest string
	for i, tag := range []string{"0.9.0-1181-g0c2c0ad", "0.9.0-1203-g81bc5bf"} {
		for j, cfg := range []string{"server", "desktop", "demo"} {
			for k, kind := range []string{"harddrive.img", "livedisk.iso"} {
				name := "redox_" + cfg + "_" + tag + "_" + kind + ".zst"
				d := srv.PublishZstd(name, diskLike(uint64(100*i+10*j+k), 64<<10))
				if i == 1 && cfg == "desktop" && kind == "harddrive.img" {
					want, wantDigest = name, d
				}
			}
		}
	}
	c, _ := newCache(t, t.TempDir())
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.DirURL(), Newest: "redox_desktop_*_harddrive.img.zst"})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Release()
	if im.File != want || im.SHA256 != wantDigest || im.Version != "0.9.0-1203-g81bc5bf" {
		t.Fatalf("resolved %s %s version %s, want %s %s", im.File, im.SHA256, im.Version, want, wantDigest)
	}
}
