package session

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Host settings ride on matrix host features as "key=value" words (the matrix schema has
// no per-suite host fields, and a host kind's options are decoded strictly by the kind):
//
//	char-delay=<duration>   pace typing for a slow UART (e.g. char-delay=2ms)
//	net.server=<address>    the address the guest reaches the harness's HTTP server at
//	                        (default 10.0.2.2, QEMU user networking's host)
//	net.listen=<address>    the controller address the HTTP server listens on
//	                        (default 127.0.0.1, which QEMU user networking forwards to)
//	net.gateway=<address>   the address to ping (default: the router of the DHCP lease)
//	redoxer-exit            (bare word) the VM has redoxer's exit device: isa-debug-exit at
//	                        QEMU's default port 0x501 on x86_64, semihosting on aarch64
//	                        (isa-debug-exit, the older name, still works on x86_64)
//
// The names and their value checks are matrix.KnownFeatures: a misspelt feature or a bad
// value is refused when the matrix loads.
const (
	SettingCharDelay = matrix.SettingCharDelay
)

// HostSetting returns the value of a "key=value" feature of h.
func HostSetting(h *matrix.Host, key string) (string, bool) { return h.Setting(key) }

// OptionsFor are the session options for a booted job: the machine's time scale and the
// host's char-delay setting.
func OptionsFor(b *job.Booted) (Options, error) {
	o := Options{Scale: 1}
	if b.Machine != nil {
		o.Scale = b.TimeScale()
	}
	if v, ok := HostSetting(&b.Job.Host, SettingCharDelay); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return o, fmt.Errorf("host %s: feature %s=%s: want a duration such as 2ms", b.Job.Host.Name, SettingCharDelay, v)
		}
		o.CharDelay = d
	}
	return o, nil
}

// What a job may need to reach in a Redox guest (scheme names, see profile.Login.For).
const (
	NeedLogs   = "logging" // /scheme/logging, the driver logs (LogRoot)
	NeedNetcfg = "netcfg"  // /scheme/netcfg, netstack's routes and addresses
)

// Open logs in on a booted job (whose boot reached the profile's login or shell stage) as
// the profile's first account that reaches what the job needs, and runs the dialect's
// setup commands. On a boot another suite already logged in on (a boot shared by the
// suites of one image x host, in the fixed order drivers, network, guest, whose needs only
// shrink) it checks that the account logged in reaches this job's needs too, and only
// proves the shell answers.
func Open(ctx context.Context, b *job.Booted, needs ...string) (*Session, error) {
	if b.Console == nil || b.Profile == nil {
		return nil, fmt.Errorf("%w: the machine never booted (%s)", ErrNoShell, b.Outcome.Reason)
	}
	o, err := OptionsFor(b)
	if err != nil {
		return nil, err
	}
	o.Needs = needs
	o.LoggedIn = shellWithoutLogin(b)
	s := New(b.Console, b.Profile, o)
	if g := b.Guest(); g.State == job.GuestUnusable {
		return nil, fmt.Errorf("%w: %s", ErrNoShell, g.Why)
	} else if g.LoggedIn() {
		if err := reaches(b.Profile.Login, g.User, needs); err != nil {
			return nil, err
		}
		s.user = g.User
		if err := s.Sync(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.Login(ctx); err != nil {
		return nil, err
	}
	if err := b.SetLoggedIn(s.user); err != nil {
		return nil, err
	}
	return s, nil
}

// reaches checks that user, logged in on a shared boot, reaches what a later suite needs:
// a boot is never trusted for more than its login gave. An image that logged in by itself
// ("") or a profile with one account has nothing to check.
func reaches(l profile.Login, user string, needs []string) error {
	for _, a := range l.Accounts {
		if a.User != user || user == "" {
			continue
		}
		for _, n := range needs {
			if !a.Reaches(n) {
				return fmt.Errorf("the shared boot is logged in as %s, which does not reach %q: this suite needs its own boot (fresh_boot: true)", user, n)
			}
		}
	}
	return nil
}

// CollectJobLogs copies the guest's driver logs (Redox: /scheme/logging) into the job
// directory's logs/ folder and returns them as record artifacts ("driver-log:<name>" ->
// path relative to the job directory). Profiles without such logs return nothing.
func CollectJobLogs(ctx context.Context, b *job.Booted, s *Session) (map[string]string, error) {
	if s == nil || s.d.Logs == "" {
		return nil, nil
	}
	logs, err := CollectLogs(ctx, s, s.d, s.d.Logs, filepath.Join(b.Dir, "logs"))
	if err != nil {
		// Since userutils 3bdd1d9 (2026-01-20) a login gets only the schemes
		// /etc/login_schemes.toml lists for its user; say so rather than fail silently.
		return nil, fmt.Errorf("%w (logged in as %q: is the logging scheme out of reach of that user? the image's /etc/login_schemes.toml decides)", err, s.User())
	}
	arts := map[string]string{}
	var errs []string
	for _, l := range logs {
		if l.Err != nil {
			errs = append(errs, l.Guest+": "+l.Err.Error())
			continue
		}
		arts["driver-log:"+l.Name] = filepath.ToSlash(filepath.Join("logs", filepath.FromSlash(l.Rel)))
	}
	if len(errs) > 0 {
		return arts, fmt.Errorf("collect logs: %s", strings.Join(errs, "; "))
	}
	return arts, nil
}

// shellWithoutLogin reports whether the boot reached the profile's shell stage (ion's
// prompt, a motd) and never its login prompt: the image logged in by itself.
func shellWithoutLogin(b *job.Booted) bool {
	l := b.Profile.Login
	if l.Shell == "" || l.Shell == l.Stage {
		return false
	}
	seen := map[string]bool{}
	for _, st := range b.Outcome.Analysis.Stages {
		seen[st.Name] = true
	}
	return seen[l.Shell] && !seen[l.Stage]
}
