package matrix

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no input panics, every error is a *Error with a position >= 0, and a
// matrix that loads expands into jobs and decodes host options without panicking.
//
//	go test ./matrix -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/bad/*.yaml", "examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	for _, tc := range malformed {
		f.Add([]byte(tc.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", data, "testdata")
		if err != nil {
			checkError(t, err)
			return
		}
		if m == nil {
			t.Fatal("nil matrix and nil error")
		}
		jobs := m.Jobs(Filter{})
		for _, j := range jobs {
			for _, l := range j.Labels() {
				if strings.ContainsAny(l, "&|!,()/ \t\n") {
					t.Fatalf("job %s has label %q that is not a valid Ginkgo label", j.ID(), l)
				}
			}
			_ = j.XFail("boot/login")
		}
		if n := len(m.Jobs(Filter{Shard: 1, Shards: 2})) + len(m.Jobs(Filter{Shard: 0, Shards: 2})); n != len(jobs) {
			t.Fatalf("shards hold %d jobs, unsharded %d", n, len(jobs))
		}
		for i := range m.Hosts {
			var o struct {
				Address string         `yaml:"address"`
				Port    int            `yaml:"port"`
				Pace    Duration       `yaml:"pace"`
				Speed   float64        `yaml:"speed"`
				List    []string       `yaml:"list"`
				Extra   map[string]any `yaml:"extra"`
				Nested  struct {
					On bool `yaml:"on"`
				} `yaml:"nested"`
			}
			if err := m.Hosts[i].DecodeOptions(&o); err != nil {
				checkError(t, err)
			}
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("error %T is not a *matrix.Error: %v", err, err)
	}
	if me.Line < 0 || me.Col < 0 {
		t.Fatalf("negative position: %v", err)
	}
	if strings.HasPrefix(me.Msg, "internal error") {
		t.Fatalf("recovered panic: %v", err)
	}
	if me.Msg == "" || strings.ContainsAny(me.Msg, "\n\r") {
		t.Fatalf("message %q must be one non-empty line", me.Msg)
	}
}
