package matrix

import (
	"strings"
	"testing"
)

// -filter and -shard are parsed by one function for every command and Ginkgo suite; a
// shard outside 0 <= i < n or with trailing junk is refused, naming the flag.
func TestParseSelection(t *testing.T) {
	f, err := ParseSelection("arch:x86_64,!kind:replay", "1/3")
	if err != nil || f.Shard != 1 || f.Shards != 3 || len(f.Labels) != 2 {
		t.Fatalf("%+v %v", f, err)
	}
	if f, err := ParseSelection("", ""); err != nil || f.Shards != 0 {
		t.Fatalf("%+v %v", f, err)
	}
	for _, c := range []struct{ filter, shard, want string }{
		{"", "3/3", "-shard"}, {"", "-1/2", "-shard"}, {"", "0/0", "-shard"}, {"", "1/2x", "-shard"},
		{"", "1", "-shard"}, {"", "a/b", "-shard"}, {"a,,b", "", "-filter"},
	} {
		if _, err := ParseSelection(c.filter, c.shard); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q %q: %v, want an error about %s", c.filter, c.shard, err, c.want)
		}
	}
}
