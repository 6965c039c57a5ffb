package session

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// Dialect is how to talk to one kind of guest shell, and what else prints on its console.
// It is profile data (what an image's session looks like) kept beside the code that uses it;
// DialectFor picks it by profile name.
type Dialect struct {
	Name string
	// Shell is "posix" (busybox ash, dash) or "ion" (Redox's shell); it decides the
	// command forms below.
	Shell string
	// Noise are console lines other writers print while commands run, without their line
	// break; they are cut out of command output wherever they land.
	Noise []*regexp.Regexp
	// Interrupt is typed to clear a half-typed line or stop a stuck command.
	Interrupt string
	// Setup commands run once after login (best effort): keep the console quiet where the
	// guest allows it.
	Setup []string
	// Tmp is a writable scratch directory in the guest.
	Tmp string
	// Logs is the guest directory of per-daemon driver logs the suites collect as job
	// artifacts (CollectJobLogs); "" when the OS keeps none.
	Logs string

	noise *regexp.Regexp
}

// Standin is the stand-in's busybox ash. Its background printer (fx.noise) writes
// "FX-NOISE <n>" lines. Kernel messages are turned down at setup (dmesg -n 1) rather than
// cut: a pattern for them would also cut the output of `dmesg` itself.
var Standin = &Dialect{
	Name:  "standin",
	Shell: "posix",
	Noise: []*regexp.Regexp{
		regexp.MustCompile(`FX-NOISE \d+`),
	},
	Interrupt: "\x15\x03",
	Setup:     []string{"dmesg -n 1"},
	Tmp:       "/tmp",
}

// Redox is Redox's ion shell on the serial console, where daemons and the kernel log too
// (DESIGN.md section 4: "<timestamp> [<crate>@<module>:<line> <LEVEL>] <msg>", kernel
// "<module path>:<LEVEL> -- <msg>", and a noisy line editor).
var Redox = &Dialect{
	Name:  "redox",
	Shell: "ion",
	Noise: []*regexp.Regexp{
		regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d[-:]\d\d[-:]\d\d(?:\.\d+)?Z? \[[^\]\n]*\] [^\n]*`),
		regexp.MustCompile(`\[[A-Za-z0-9_-]*@[A-Za-z0-9_:]+:\d+ [A-Z]+\] [^\n]*`),
		regexp.MustCompile(`kernel::[A-Za-z0-9_:]+:[A-Z]+ -- [^\n]*`),
		// ipcd's complaint (not relibc's): "open(path: ''): ..." on older images,
		// "uds_stream: open({:?}, {:x}): ..." and "uds_dgram: open({:?}, {:x}): ..." since
		// base 55146b6e (2026-05-02; base 9dd6901d ipcd/src/uds/stream.rs:1275,
		// ipcd/src/uds/dgram.rs:683).
		regexp.MustCompile(`(?:uds_(?:stream|dgram): open\("[^"\n]*", [0-9a-f]+\)|open\(path: '[^'\n]*'\)): Attempting to open an unnamed socket without O_CREAT\.`),
		// relibc's own logger (relibc 63599227 src/platform/logger.rs:272
		// `writeln!(writer, "[{level} {process_name}@{target}{line}] {message}")`, default
		// level Info): "[INFO ls@src/header/...rs:42] TODO: ...", the level first.
		regexp.MustCompile(`\[(?:TRACE|DEBUG|INFO|WARN|ERROR) [^@\]\n]*@[^\]\n]*\] [^\n]*`),
		regexp.MustCompile(`DHCP: [^\n]*`),
	},
	Interrupt: "\x03",
	Tmp:       "/tmp",
	Logs:      LogRoot,
}

// Dialects by profile name.
var Dialects = map[string]*Dialect{"standin": Standin, "redox": Redox}

// DialectFor returns the dialect of a profile (POSIX with no noise for an unknown one).
func DialectFor(p *profile.Profile) *Dialect {
	if p != nil {
		if d, ok := Dialects[p.Name]; ok {
			return d
		}
	}
	return &Dialect{Name: "posix", Shell: "posix", Interrupt: "\x15\x03", Tmp: "/tmp"}
}

// Wrap is the line typed for cmd: markers around it, the nonce split by an empty quoted
// string so the echo of the line never contains it.
func (d *Dialect) Wrap(nonce, cmd string) string {
	h := len(nonce) / 2
	split := nonce[:h] + "''" + nonce[h:]
	return "echo " + split + "-S; " + cmd + "; echo " + split + "-E $?"
}

// CutNoise removes the dialect's noise lines from text, wherever they start (a noise line
// that landed in the middle of an output line is cut with its line break, joining the
// output line again), and returns the text and how many were cut.
func (d *Dialect) CutNoise(text string) (string, int) {
	re := d.noiseRe()
	if re == nil {
		return text, 0
	}
	n := 0
	out := re.ReplaceAllStringFunc(text, func(string) string { n++; return "" })
	return out, n
}

func (d *Dialect) noiseRe() *regexp.Regexp {
	if len(d.Noise) == 0 {
		return nil
	}
	if d.noise == nil {
		var alts []string
		for _, r := range d.Noise {
			alts = append(alts, "(?:"+r.String()+")")
		}
		d.noise = regexp.MustCompile("(?:" + strings.Join(alts, "|") + ")\n")
	}
	return d.noise
}

// Quote quotes s as one word for the shell.
func (d *Dialect) Quote(s string) string {
	if s != "" && regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Discard is the redirection that throws a command's stderr away.
func (d *Dialect) Discard() string {
	if d.Shell == "ion" {
		return "^>/dev/null"
	}
	return "2>/dev/null"
}

// Fetch command forms.

// SizeCmd prints the size of path in bytes.
func (d *Dialect) SizeCmd(path string) string { return "wc -c < " + d.Quote(path) }

// SumCmd prints the SHA-256 of path ("<hex>  <name>").
func (d *Dialect) SumCmd(path string) string { return "sha256sum " + d.Quote(path) }

// ChunkCmd prints one chunk of path in base64 followed by the chunk's SHA-256: block
// chunk of blockSize bytes. The chunk goes through a scratch file so both come from the
// same bytes.
func (d *Dialect) ChunkCmd(path string, blockSize, chunk int) string {
	tmp := d.Tmp + "/.rhw-chunk"
	return fmt.Sprintf("dd if=%s of=%s bs=%d skip=%d count=1 %s; base64 %s; sha256sum %s",
		d.Quote(path), tmp, blockSize, chunk, d.Discard(), tmp, tmp)
}

// CopyCmd snapshots a growing file (a log) so its checksum and content agree.
func (d *Dialect) CopyCmd(from, to string) string { return "cp " + d.Quote(from) + " " + d.Quote(to) }

// ListCmd lists a directory, one name per line.
func (d *Dialect) ListCmd(dir string) string { return "ls -1 " + d.Quote(dir) }

// RemoveCmd removes a scratch file.
func (d *Dialect) RemoveCmd(path string) string { return "rm -f " + d.Quote(path) }
