// Package profile says what a boot looks like, as data: ordered stages with the patterns
// that mark them, failure signatures, benign noise, how to name the component that printed a
// line, how to normalise crash titles, and how to log in. A new failure string is one new
// row in a table here; nothing in hosts/ knows what Redox prints.
package profile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Pattern matches one normalised console line. Contains is a required substring (cheap,
// and what makes a table of dozens of patterns affordable per line); Regexp, when set, must
// also match and its named groups feed titles and components.
type Pattern struct {
	Contains string
	Regexp   *regexp.Regexp
}

// Lit is a substring pattern.
func Lit(s string) Pattern { return Pattern{Contains: s} }

// Re is a pattern with a literal prefilter and a regular expression.
func Re(contains, expr string) Pattern {
	return Pattern{Contains: contains, Regexp: regexp.MustCompile(expr)}
}

// Match reports whether line matches and returns its named groups (nil when the pattern
// has none; do not write to the map).
func (p Pattern) Match(line string) (map[string]string, bool) {
	if p.Contains != "" && !strings.Contains(line, p.Contains) {
		return nil, false
	}
	if p.Regexp == nil {
		return nil, p.Contains != ""
	}
	if p.Regexp.NumSubexp() == 0 {
		return nil, p.Regexp.MatchString(line)
	}
	m := p.Regexp.FindStringSubmatch(line)
	if m == nil {
		return nil, false
	}
	g := make(map[string]string, len(m))
	for i, name := range p.Regexp.SubexpNames() {
		if name != "" && i < len(m) {
			g[name] = m[i]
		}
	}
	return g, true
}

// Is reports whether line matches, without extracting groups (the fast path for stage
// markers, benign noise and anything else that only needs a yes or no).
func (p Pattern) Is(line string) bool {
	if p.Contains != "" && !strings.Contains(line, p.Contains) {
		return false
	}
	if p.Regexp == nil {
		return p.Contains != ""
	}
	return p.Regexp.MatchString(line)
}

// Stage is one step of a boot.
type Stage struct {
	Name    string
	Markers []Pattern
	// Optional stages are not printed on every boot path (a direct kernel boot has no
	// firmware or bootloader lines); not seeing one is not a failure if a later one is seen.
	Optional bool
	// Timeout bounds the time from the previous stage to this one (before time scaling);
	// 0 means only the whole-boot deadline and the silence watchdog apply.
	Timeout time.Duration
	// Screen marks the stage by what the screen shows, as well as (or instead of) the
	// serial console: on a host with a display the harness looks for these while the stage
	// is awaited (see ScreenAwaited), and only then.
	Screen []ScreenMarker
	// Variants, when set, keeps the stage only for images of these variants (ForVariant);
	// such a stage after the login stage is the boot's target for them (a desktop image
	// has booted when its graphical login shows, not when the serial prompt does).
	Variants []string
}

// ScreenMarker is what marks a stage (or calls for a response) on the screen: a phrase read
// by OCR (Text: matched on the recognised text case-insensitively, every run of characters
// other than letters and digits counting as one space), or a reference picture (Needle)
// where text does not fit (a logo, a desktop).
type ScreenMarker struct {
	Text   string
	Needle *Needle
}

// String names the marker in messages.
func (m ScreenMarker) String() string {
	if m.Needle != nil {
		return "needle " + m.Needle.Name
	}
	return "text " + fmt.Sprintf("%q", m.Text)
}

// Needle is a reference picture region, openQA style: the PNG (a crop of a known-good
// screen) is expected at (X, Y) of the screen, give or take Search pixels each way, and
// matches when the mean difference per colour channel is at most Tolerance (0-255; 0 means
// the default, 12: the same glyphs, with room for scaling and cursor blink).
type Needle struct {
	Name      string
	PNG       []byte
	X, Y      int
	Search    int
	Tolerance float64
}

// Response is input the harness types when a pattern appears (the Redox bootloader's menu
// waits forever for Enter).
type Response struct {
	On   Pattern
	Send string
	// Screen, when set, is the same prompt as seen on the screen (a BIOS menu drawn only on
	// VGA); Keys are then pressed on the machine's keyboard (QEMU qcode chords such as
	// "ret", "shift-e"). A row answers once, on whichever side saw its prompt first.
	// Screen responses are looked for until the first non-optional stage is reached: boot
	// menus come before the kernel.
	Screen *ScreenMarker
	Keys   []string
}

// Event kinds, the stable vocabulary of `analyze --json` and the reports.
const (
	KindKernelPanic = "kernel-panic"
	KindException   = "exception"
	KindPanic       = "panic"
	KindExit        = "exit"
	KindDriverError = "driver-error"
	KindHang        = "hang"
)

// IsCrash reports whether an event of this kind is a crash: the one definition that
// `analyze`'s exit status and verdict, the boot suite's boot/no-crash check and the
// drivers suite's judge all use, so a replayed boot and `analyze` on the same log agree.
// A kernel panic, a process the kernel killed, a Rust panic and a process that died or
// never became ready (a microkernel boot can reach login with a daemon dead on the way)
// are crashes; a driver error is a finding for that driver's check, a hang is judged by
// the stage checks.
func IsCrash(kind string) bool {
	switch kind {
	case KindKernelPanic, KindException, KindPanic, KindExit:
		return true
	}
	return false
}

// Signature is one failure string.
type Signature struct {
	Kind  string
	Match Pattern
	// Next, when set, continues the event on a following line (a Rust panic's message, the
	// NAME line after an old kernel's SIGNAL line) within NextWithin lines (default 3); its
	// named groups join the first line's.
	Next       *Pattern
	NextWithin int
	// NextSkip lists lines passed over (not taken as the continuation) while waiting for
	// Next: other daemons' log lines that land between a panic and its message. Blank and
	// benign lines are always passed over. Skipped lines still count towards NextWithin.
	NextSkip []Pattern
	// Swallow lists lines that belong to this event's report while it waits for Next
	// (an old kernel's "SIGNAL 4" line between an x86 fault and its "NAME" line): they
	// are part of the event, not events of their own.
	Swallow []Pattern
	// Title and Component are templates over the named groups ("$name" or "${name}");
	// an empty Component, or one that expands to nothing, means "the component in
	// context": the one the line itself names (Profile.Components), else for a
	// driver-error the driver most recently spawned, else the component that printed last.
	// Titles may use $component, the component finally chosen.
	Title     string
	Component string
	// Fatal signatures end the boot: nothing after them can reach login (a kernel panic).
	Fatal bool
	// PartOf makes the line a trailer of an earlier event of one of these kinds recorded
	// at most PartOfWithin lines before (default 8): it adds nothing then (relibc's
	// "abort() called" after a Rust panic). Alone, it is an event of its own. A trailer
	// with a Next absorbs its continuation (and its Swallow lines) too, within NextWithin
	// lines; a "name" group there names the event when its own lines did not (the
	// x86 invalid-opcode fault that relibc's abort() causes, then the kernel's NAME line).
	PartOf       []string
	PartOfWithin int
}

// ComponentRule names the component a line comes from: Name when set, else the named
// group "c", else the first "::" segment of the group "m" (a module path).
type ComponentRule struct {
	Match Pattern
	Name  string
	// Spawn rules record the driver most recently started (pcid-spawner) rather than the
	// line's author: a later failure without a name of its own is blamed on it.
	Spawn bool
}

// Rewrite is one title normalisation step.
type Rewrite struct {
	Re   *regexp.Regexp
	With string
}

// Login says how to get a shell once the login stage is reached.
type Login struct {
	// Stage reached means "reached login"; Shell reached means a shell is running.
	Stage string
	Shell string
	// User and Password to type at the login prompt; PasswordPrompt is matched before
	// sending the password. Empty User: the profile's boot ends in a shell without login.
	User           string
	Password       string
	PasswordPrompt string
	// Welcome confirms the login worked.
	Welcome string
	// Accounts, when set, are the users a session may log in as, least privileged
	// first, with what each can reach: a session that needs something (Redox: the
	// "logging" and "netcfg" schemes) logs in as the first account that reaches all of
	// it (For). Without Accounts, User and Password are the only account.
	Accounts []Account
}

// Account is a user of an image and what its login can reach (Redox: the schemes
// /etc/login_schemes.toml gives it; "*" is everything).
type Account struct {
	User, Password string
	Reach          []string
}

// Reaches reports whether the account can reach need.
func (a Account) Reaches(need string) bool {
	for _, r := range a.Reach {
		if r == "*" || r == need || strings.HasSuffix(r, "*") && strings.HasPrefix(need, strings.TrimSuffix(r, "*")) {
			return true
		}
	}
	return false
}

// For picks the account to log in as for a job that needs the given things: the first
// account that reaches all of them. No account reaching them is an error that names
// what is out of reach, never a silent fallback.
func (l Login) For(needs ...string) (Account, error) {
	if len(l.Accounts) == 0 {
		return Account{User: l.User, Password: l.Password, Reach: []string{"*"}}, nil
	}
next:
	for _, a := range l.Accounts {
		for _, n := range needs {
			if !a.Reaches(n) {
				continue next
			}
		}
		return a, nil
	}
	var users []string
	for _, a := range l.Accounts {
		users = append(users, a.User)
	}
	return Account{}, fmt.Errorf("no account (%s) reaches all of %s", strings.Join(users, ", "), strings.Join(needs, ", "))
}

// Profile is what one kind of image prints.
type Profile struct {
	Name       string
	Stages     []Stage
	Responses  []Response
	Signatures []Signature
	// Benign lines look alarming but are not failures; a line matching one is not checked
	// against the signatures.
	Benign     []Pattern
	Components []ComponentRule
	Normalize  []Rewrite
	Login      Login
	// Until is the stage that ends a boot (empty: login, or shell for a profile without
	// login); ForVariant sets it for a variant whose last stage is on the screen.
	Until string
	// DriverComponents maps matrix device names to the component names a profile uses for
	// their drivers (Redox: nvme -> nvmed), so a hang or crash can be blamed on a device.
	DriverComponents map[string][]string
}

// StageIndex returns the position of a stage by name, or -1.
func (p *Profile) StageIndex(name string) int {
	for i, s := range p.Stages {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// ForVariant is the profile as it applies to images of a variant: stages kept for other
// variants only are left out, and a variant's own stage after the login stage becomes the
// boot's target. A profile without variant stages is returned as is.
func (p *Profile) ForVariant(variant string) *Profile {
	return derive(p, "variant:"+variant, func() *Profile { return p.forVariant(variant) })
}

// derived caches profiles made from registered ones (ForVariant, WithoutScreen), so each
// is built once: the line analyser compiles a profile once per pointer.
var derived sync.Map // derivedKey -> *Profile

type derivedKey struct {
	p   *Profile
	how string
}

func derive(p *Profile, how string, make func() *Profile) *Profile {
	k := derivedKey{p, how}
	if d, ok := derived.Load(k); ok {
		return d.(*Profile)
	}
	d, _ := derived.LoadOrStore(k, make())
	return d.(*Profile)
}

func (p *Profile) forVariant(variant string) *Profile {
	has := false
	for _, s := range p.Stages {
		has = has || len(s.Variants) > 0
	}
	if !has {
		return p
	}
	cp := *p
	cp.Stages = nil
	login := p.StageIndex(p.Login.Stage)
	for i, s := range p.Stages {
		if len(s.Variants) == 0 {
			cp.Stages = append(cp.Stages, s)
			continue
		}
		for _, v := range s.Variants {
			if v == variant {
				cp.Stages = append(cp.Stages, s)
				if i > login {
					cp.Until = s.Name
				}
				break
			}
		}
	}
	return &cp
}

// WithoutScreen is the profile for a host without a display: stages marked only on the
// screen are left out (they cannot be seen, which says nothing about the image) and are
// returned by name; the boot's target falls back to login when it was one of them.
func (p *Profile) WithoutScreen() (*Profile, []string) {
	var dropped []string
	for _, s := range p.Stages {
		if len(s.Markers) == 0 && len(s.Screen) > 0 {
			dropped = append(dropped, s.Name)
		}
	}
	if len(dropped) == 0 {
		return p, nil
	}
	return derive(p, "without-screen", p.withoutScreen), dropped
}

func (p *Profile) withoutScreen() *Profile {
	cp := *p
	cp.Stages = nil
	for _, s := range p.Stages {
		if len(s.Markers) == 0 && len(s.Screen) > 0 {
			if cp.Until == s.Name {
				cp.Until = ""
			}
			continue
		}
		cp.Stages = append(cp.Stages, s)
	}
	return &cp
}

// HasScreen reports whether any stage or response of the profile looks at the screen.
func (p *Profile) HasScreen() bool {
	for _, s := range p.Stages {
		if len(s.Screen) > 0 {
			return true
		}
	}
	for _, r := range p.Responses {
		if r.Screen != nil {
			return true
		}
	}
	return false
}

// ScreenAwaited lists the stages whose screen markers are worth looking for when the stages
// in reached have been seen: those not reached yet, up to and including the next
// non-optional stage after the furthest one reached (an optional stage before it may still
// show; one behind the boot's progress never will). Nothing else costs OCR time.
func (p *Profile) ScreenAwaited(reached func(name string) bool) []int {
	furthest := -1
	for i, s := range p.Stages {
		if reached(s.Name) {
			furthest = i
		}
	}
	var out []int
	for i := furthest + 1; i < len(p.Stages); i++ {
		s := p.Stages[i]
		if len(s.Screen) > 0 {
			out = append(out, i)
		}
		if !s.Optional {
			break
		}
	}
	return out
}

// NormalizeTitle strips what differs between two occurrences of the same bug (addresses,
// PIDs, timestamps, line:col) so equal bugs get equal titles.
func (p *Profile) NormalizeTitle(t string) string {
	for _, rw := range p.Normalize {
		t = rw.Re.ReplaceAllString(t, rw.With)
	}
	return strings.Join(strings.Fields(t), " ")
}

// Expand fills a "$name" or "${name}" template from groups (a missing group is empty)
// and folds runs of white space.
func Expand(tmpl string, groups map[string]string) string {
	if tmpl == "" {
		return ""
	}
	if !strings.Contains(tmpl, "$") {
		return strings.Join(strings.Fields(tmpl), " ")
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '$' || i+1 >= len(tmpl) {
			b.WriteByte(c)
			continue
		}
		j, braced := i+1, tmpl[i+1] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(tmpl) && (tmpl[k] == '_' || tmpl[k] >= 'a' && tmpl[k] <= 'z' || tmpl[k] >= 'A' && tmpl[k] <= 'Z' || k > j && tmpl[k] >= '0' && tmpl[k] <= '9') {
			k++
		}
		if k == j || braced && (k >= len(tmpl) || tmpl[k] != '}') {
			b.WriteByte(c)
			continue
		}
		b.WriteString(groups[tmpl[j:k]])
		if braced {
			k++
		}
		i = k - 1
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

var registry = map[string]*Profile{}

// Register adds a profile; called from init() of each profile file.
func Register(p *Profile) {
	if _, dup := registry[p.Name]; dup {
		panic("duplicate profile " + p.Name)
	}
	registry[p.Name] = p
}

// Get returns a profile by name.
func Get(name string) (*Profile, error) {
	p, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// Names lists the registered profiles.
func Names() []string {
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// commonNormalize are title rewrites every profile wants: what differs between two
// occurrences of one bug (when, where in memory, which process instance) goes; what names
// the bug (file, message, exit status, errno) stays.
var commonNormalize = []Rewrite{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d[-:]\d\d[-:]\d\d(\.\d+)?Z?`), ""}, // timestamps
	{regexp.MustCompile(`\[\s*\d+\.\d+\]`), ""},                                // dmesg times
	{regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`), "UUID"},
	// Hex: long values are addresses (CONTEXT, pointers), short ones codes (ESR, NVMe
	// status); both are stripped, the kind of value stays readable.
	{regexp.MustCompile(`0[xX][0-9a-fA-F]{5,}`), "ADDR"},
	{regexp.MustCompile(`0[xX][0-9a-fA-F]+`), "0xN"},
	{regexp.MustCompile(`\b[0-9a-fA-F]{8,}\b`), "ADDR"},
	{regexp.MustCompile(`(\.rs|\.c|\.h|\.S|\.cc|\.cpp|\.go):\d+(:\d+)?`), "$1"},
	{regexp.MustCompile(`\bPID:? (ContextId\()?\d+\)?`), "PID N"},
	{regexp.MustCompile(`\bpid[ =:]\s*\d+`), "pid N"},
	{regexp.MustCompile(`ContextId\(\d+\)`), "ContextId(N)"},
	{regexp.MustCompile(`CPU #?\d+`), "CPU N"},
	{regexp.MustCompile(`DEBUG ID: \d+`), "DEBUG ID: N"},
}

func mustRe(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }
