package transcript

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// The writer and the parser of the times file are the same package's: what the console
// writes, the replay host reads back exactly (notes and input skipped).
func TestTimesRoundTrip(t *testing.T) {
	var b bytes.Buffer
	t0 := time.Unix(1700000000, 5)
	WriteTimesHeader(&b, t0)
	WriteRead(&b, 0, t0.Add(time.Millisecond))
	WriteMark(&b, MarkInput, t0.Add(2*time.Millisecond), "root\n")
	WriteRead(&b, 17, t0.Add(3*time.Millisecond))
	WriteMark(&b, MarkNote, t0.Add(4*time.Millisecond), "end: EOF \"q\"")
	got, err := ParseTimes(b.Bytes())
	if err != nil {
		t.Fatalf("ParseTimes: %v\n%s", err, b.String())
	}
	ns := t0.UnixNano()
	want := []Read{{0, ns}, {0, ns + 1e6}, {17, ns + 3e6}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseTimesRejects(t *testing.T) {
	for _, in := range []string{"", "# only a header\n", "0 1\n5\n", "5 1\n3 2\n", "0 2\n1 1\n", "-1 3\n", "x y\n"} {
		if _, err := ParseTimes([]byte(in)); err == nil {
			t.Errorf("ParseTimes(%q): no error", in)
		}
	}
}

func TestSplitHeader(t *testing.T) {
	h, body, n := SplitHeader([]byte("# a\r\n# b\n#\nx\n# c\n"))
	if n != 3 || string(h) != "# a\r\n# b\n#\n" || string(body) != "x\n# c\n" {
		t.Fatalf("SplitHeader: %d %q %q", n, h, body)
	}
	if _, body, n := SplitHeader([]byte("#!/bin/sh\n")); n != 0 || len(body) != 10 {
		t.Fatalf("shebang is not a header: %d %q", n, body)
	}
}
