package profile

import (
	"strings"
	"testing"
)

// Lines as upstream prints them (repository, path and commit named per row), in every
// format a Redox image of the last two years prints, and the stage each must mark.
func TestRedoxStageMarkersUpstreamLines(t *testing.T) {
	for _, c := range []struct {
		source, line, stage string
	}{
		// bootloader src/main.rs load_to_memory: print!("{}: 0/{} MiB", filename, ...)
		// before 848002b, path "boot/kernel" from 848002b, "usr/lib/boot/kernel" from
		// a8dc023 (2026-03-07); live copy println!("\rlive: {}/{} MiB", ...).
		{"bootloader 848002b^ src/main.rs", "kernel: 12/12 MiB", "bootloader"},
		{"bootloader 848002b src/main.rs", "boot/initfs: 3/3 MiB", "bootloader"},
		{"bootloader a8dc023 src/main.rs", "usr/lib/boot/kernel: 12/12 MiB", "bootloader"},
		{"bootloader b74f53a src/main.rs:517", "live: 64/64 MiB", "bootloader"},
		// bootloader b74f53a src/os/uefi/arch/aarch64.rs:223 "kernel_entry({:#x}, ...)".
		{"bootloader b74f53a src/os/uefi/arch/aarch64.rs:223", "kernel_entry(0xffffff0000000000, 0x80000, 0x1000, 0x4000)", "bootloader"},
		// ion 1440704 src/lib/shell/variables.rs PROMPT, "#" for everyone before
		// 460fe0dd (2025-06-04), "$" for users other than root since.
		{"ion 460fe0dd^ src/lib/shell/variables.rs", "user:~# ", "shell"},
		{"ion 460fe0dd src/lib/shell/variables.rs", "user:~$ ", "shell"},
		{"ion 460fe0dd src/lib/shell/variables.rs", "root:/home/user# ls", "shell"},
	} {
		got := ""
		for _, st := range Redox.Stages {
			for _, m := range st.Markers {
				if m.Is(c.line) && got == "" {
					got = st.Name
				}
			}
		}
		if got != c.stage {
			t.Errorf("%s: %q marks stage %q, want %q", c.source, c.line, got, c.stage)
		}
	}
}

// The account for a job: redox 81bc5bf config/base.toml gives "user" no "logging",
// "netcfg" or "audiohw" scheme (userutils 3bdd1d9 enforces it at login since 2026-01-20);
// root ("password") gets "*".
func TestRedoxLoginAccountPerNeed(t *testing.T) {
	for _, c := range []struct {
		needs []string
		user  string
	}{
		{nil, "user"},
		{[]string{"audio", "tcp", "display.vesa"}, "user"},
		{[]string{"logging"}, "root"},
		{[]string{"netcfg"}, "root"},
		{[]string{"audio", "audiohw"}, "root"},
	} {
		a, err := Redox.Login.For(c.needs...)
		if err != nil || a.User != c.user {
			t.Errorf("needs %v: %+v %v, want %s", c.needs, a, err, c.user)
		}
	}
	l := Redox.Login
	l.Accounts = l.Accounts[:1]
	if _, err := l.For("netcfg"); err == nil || !strings.Contains(err.Error(), "netcfg") {
		t.Errorf("no account reaching netcfg: %v", err)
	}
}
