package gate

import (
	"strings"
	"testing"
)

// The MR comment: headline, new failures with their excerpt in a fence no transcript can
// close, fixed and unchanged listed, INFRA apart at the end; console text cannot ping,
// link or open HTML.
func TestWriteMarkdown(t *testing.T) {
	base, cur := pair()
	cur[0].Checks[0].Excerpt = "FX: stage drivers\n``` ``````\n</details><script>x</script>\n@maintainer look"
	cur[0].Checks[0].Message = "hda: no codec @everyone <b>[x](http://evil)</b>"
	var b strings.Builder
	if err := Compare(base, cur).WriteMarkdown(&b, "redox-hwtest MR gate"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"### redox-hwtest MR gate: :x: ",
		"#### New failures (",
		"- `img@h1/boot` `a`: PASS → **FAIL**: hda: no codec @\u200beveryone &lt;b&gt;\\[x\\](http://evil)&lt;/b&gt;",
		"<details><summary>transcript excerpt</summary>",
		"  ```````\n  FX: stage drivers\n",
		"#### Fixed (",
		"<details><summary>Unchanged (",
		"---\n\n#### Lab failures (INFRA: the lab, not the change; not counted) (",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "Lab failures") < strings.Index(md, "Unchanged") {
		t.Errorf("INFRA is not apart at the end:\n%s", md)
	}
	for _, bad := range []string{"@everyone", "<b>", "[x](http"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary carries console text live: %q", bad)
		}
	}

	// No new failure: the headline says so.
	b.Reset()
	if err := Compare(base, base).WriteMarkdown(&b, "g"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "### g: :white_check_mark: no new failure") {
		t.Errorf("clean gate: %s", b.String())
	}
}

// The summary stays bounded whatever the excerpt.
func TestMarkdownExcerptBounded(t *testing.T) {
	ex := excerpt(strings.Repeat("x", 100) + "\n" + strings.Repeat(strings.Repeat("y", 500)+"\n", 100))
	if n := strings.Count(ex, "\n") + 1; n > mdMaxExcerptLines || len(ex) > mdMaxExcerptBytes+4 {
		t.Fatalf("excerpt of %d lines, %d bytes", n, len(ex))
	}
}
