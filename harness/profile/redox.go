package profile

// Redox is what a Redox OS boot prints on its serial console (DESIGN.md section 4, checked
// against the real transcripts in ../shared/redox-logs and the Redox sources that print each
// string). Every pattern is unanchored or allows a leading prompt, because log lines land in
// the middle of the login prompt and of typed echo ("redox login: DHCP: ...").
var Redox = &Profile{
	Name: "redox",
	Stages: []Stage{
		{Name: "firmware", Optional: true, Markers: []Pattern{
			Lit("BdsDxe: starting"), Lit("BdsDxe: loading"), Lit("SeaBIOS (version"), Lit("U-Boot 20"),
		}},
		{Name: "bootloader", Optional: true, Markers: []Pattern{
			Lit("Redox OS Bootloader"), Lit("Looking for RedoxFS"), Lit("RedoxFS password"),
			Lit("Arrow keys and enter select mode"),
			// The bootloader loading the kernel and initfs (a paste may start here).
			Re(" MiB", `(?:^|\s)(?:kernel|initfs|live): \d+/\d+ MiB`),
		}},
		{Name: "kernel", Markers: []Pattern{
			Lit("Redox OS starting"), Lit("kernel_entry("),
			Re("kernel", `kernel(?:::\w+)*:(?:TRACE|DEBUG|INFO|WARN|ERROR) -- `),
		}},
		{Name: "init", Markers: []Pattern{
			Re("initnsmgr", `\[src/initnsmgr\.rs:\d+`),
			Re(": ", `(?:^|\s)(?:init|vesad|fbbootlogd|fbcond|randd|nulld|zerod|rtcd|logd|ramfs|inputd|lived|ps2d|acpid|hwd): `),
			Re("[@", `\[@(?:logd|ramfs|inputd|vesad|fbbootlogd|fbcond|lived|ps2d|acpid|acpi|hwd|rtcd|randd)\b`),
		}},
		// Drivers do not print on every image (log levels), so a later stage may be seen
		// without this one.
		{Name: "drivers", Optional: true, Markers: []Pattern{
			Lit("pcid-spawner"),
			Re("[@", `\[@(?:pcid|pcid_spawner|ahcid|nvmed|xhcid|e1000d|ihdad|ided|rtl8139d|rtl8168d|ixgbed|usbhidd|usbscsid|usbhubd|bgad|vboxd|ac97d|sb16d|virtio[\w-]*)\b`),
			Lit("virtio-blk: "), Lit("virtio-net: "),
		}},
		// Network services (from /usr/lib/init.d), whether or not a network came up.
		{Name: "network", Optional: true, Markers: []Pattern{
			Lit("DHCP"), Lit("smolnetd"), Lit("smoltcpd"), Lit("dhcpd"), Lit("netcfg-auto"),
		}},
		{Name: "login", Markers: []Pattern{
			Re("login:", `(?:^|[^\w.-])[a-z0-9][a-z0-9.-]* login:`),
		}},
		// An image that logs in by itself prints its motd ("Welcome to Redox OS!", or a
		// custom one naming Redox) without a login prompt.
		{Name: "shell", Optional: true, Markers: []Pattern{
			Re("Welcome to ", `Welcome to .*Redox`),
		}},
	},
	Responses: []Response{
		// The bootloader waits forever for Enter when a display exists.
		{On: Lit("Arrow keys and enter select mode"), Send: "\r"},
	},
	Signatures: redoxSignatures,
	Benign: []Pattern{
		// init's namespace manager on every lookup of a scheme that is not up yet.
		Lit("not found in namespace"),
		// pcid without MCFG (QEMU without q35, Cloud Hypervisor): falls back to PCI 3.0.
		Lit("Couldn't retrieve PCIe info"),
		// Cloud Hypervisor's own log line on the shared console.
		Re("cloud-hypervisor:", `cloud-hypervisor:\s+[\d.]+s: `),
		// Absent hardware, not a failure (the drivers suite turns these into SKIP).
		Lit("smoltcpd: no network adapter found"),
		Re("No such device", `audiod: No such device`),
		// The bootloader on a firmware without EDID.
		Lit("Failed to get EFI EDID"),
		// relibc's complaint on every keystroke of some shells.
		Lit("Attempting to open an unnamed socket without O_CREAT"),
	},
	Components: []ComponentRule{
		{Match: Re("pcid-spawner: spawn", `pcid-spawner: spawn (?:[A-Z_][A-Z0-9_]*="[^"]*" )*"(?:[^"]*/)?(?P<c>[^"/]+)"`), Spawn: true},
		// The kernel naming a process (exception, old SIGNAL, kernel panic context).
		{Match: Re("NAME", `\bNAME:? (?:\S*/)?(?P<c>[^\s,/]+)`)},
		// "<timestamp> [<crate>@<module>:<line> <LEVEL>]": the crate, else the module's crate.
		{Match: Re("@", `\[(?P<c>[A-Za-z0-9_-]*)@(?P<m>[A-Za-z0-9_-]+)[A-Za-z0-9_:]*:\d+ [A-Z]+\]`)},
		{Match: Re("kernel", `kernel(?:::\w+)*:(?:TRACE|DEBUG|INFO|WARN|ERROR) -- `), Name: "kernel"},
		// A daemon's own prefix ("smoltcpd: ...", "audiod: ..."), after a prompt if one
		// is in the way.
		{Match: Re("d: ", `^(?:[a-z0-9][\w.-]* login: |\S*[#>] )?(?P<c>[a-z][a-z0-9_-]*d): `)},
		{Match: Re("pcid-spawner: ", `^(?:[a-z0-9][\w.-]* login: |\S*[#>] )?(?P<c>pcid-spawner): `)},
		{Match: Re("netcfg-auto: ", `^(?:[a-z0-9][\w.-]* login: |\S*[#>] )?(?P<c>netcfg-auto): `)},
		{Match: Re("init: ", `^(?:[a-z0-9][\w.-]* login: |\S*[#>] )?(?P<c>init): `)},
		{Match: Re("getty: ", `^(?:[a-z0-9][\w.-]* login: |\S*[#>] )?(?P<c>getty): `)},
		{Match: Re("virtio-blk: ", `^virtio-blk: `), Name: "virtio-blkd"},
		{Match: Re("virtio-net: ", `^virtio-net: `), Name: "virtio-netd"},
		// Older drivers' banners without the log prefix ("IHDA <addr>", "AHCI <addr>").
		{Match: Re("IHDA", `^\s*\+?\s*IHDA\b`), Name: "ihdad"},
		{Match: Re("AHCI", `^\s*\+?\s*AHCI\b`), Name: "ahcid"},
		{Match: Re("XHCI", `^\s*\+?\s*XHCI\b`), Name: "xhcid"},
		{Match: Re("E1000", `^\s*\+?\s*E1000\b`), Name: "e1000d"},
	},
	Normalize: commonNormalize,
	Login:     Login{Stage: "login", Shell: "shell", User: "user", Welcome: "Welcome to Redox OS"},
	DriverComponents: map[string][]string{
		"nvme":       {"nvmed"},
		"e1000":      {"e1000d"},
		"hda":        {"ihdad", "audiod"},
		"xhci":       {"xhcid"},
		"ahci":       {"ahcid"},
		"virtio-blk": {"virtio-blkd"},
		"virtio-net": {"virtio-netd"},
		"ps2":        {"ps2d"},
	},
}

// redoxLogLines are other components' log lines, passed over while a panic waits for its
// message line (a daemon logging between the two is common on a busy console).
var redoxLogLines = []Pattern{
	Re("[", `^\s*(?:\d{4}-\d\d-\d\dT\S+\s+)?\[[^\]]*(?:@|\.rs:\d+)[^\]]*\]`),
	Re("kernel", `kernel(?:::\w+)*:(?:TRACE|DEBUG|INFO|WARN|ERROR) -- `),
	Lit("stack backtrace:"),
	Re("note: ", `^note: `),
	// A panic without its message: the abort is its own row (absorbed by the panic).
	Lit("relibc: abort() called"),
}

// nameLine is the kernel's line naming the process it killed: "NAME /bin/pcid" (old),
// "NAME: /usr/bin/x" (old aarch64), or the UNHANDLED EXCEPTION line's "NAME /usr/bin/x,".
var nameLine = &Pattern{Contains: "NAME", Regexp: mustRe(`\bNAME:? (?:\S*/)?(?P<name>[^\s,/]+)`)}

// The order matters: the first row that matches a line wins, so specific rows come first.
var redoxSignatures = []Signature{
	// Kernel panics. The kernel halts: nothing after one can reach login (Fatal). Rust's
	// panic message format changed in 1.73 ("panicked at 'msg', file" -> "panicked at
	// file:l:c:" with the message on the next line); both are in the field.
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("KERNEL PANIC", `KERNEL PANIC: panicked at '(?P<msg>.*)', (?P<file>[^\s:]+)`),
		Title: "kernel panic at $file: $msg"},
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match:      Re("KERNEL PANIC", `KERNEL PANIC: panicked at (?P<file>[^\s:']+)(?::\d+)*:?\s*(?P<msg>.*)`),
		Next:       &Pattern{Regexp: mustRe(`^\s*(?P<msg>\S.*)$`)},
		NextWithin: 2,
		Title:      "kernel panic at $file: $msg"},
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("KERNEL PANIC", `KERNEL PANIC:?\s*(?P<msg>.*)`),
		Title: "kernel panic: $msg"},
	// aarch64: a synchronous exception taken in the kernel itself; the kernel loops.
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("Synchronous exception at EL1", `Synchronous exception at EL1`),
		Title: "kernel exception: synchronous exception at EL1"},

	// A user process killed by the kernel. x86_64 prints one line; aarch64 first prints
	// "FATAL: Not an SVC induced synchronous exception", the registers and the stack (a
	// few dozen lines, ending in "GUARD PAGE"), then that same line; old aarch64 kernels
	// ended with "NAME: <process>" instead. The event waits for whichever names it.
	{Kind: KindException,
		Match:      Re("FATAL: Not an SVC", `FATAL: Not an SVC induced synchronous exception`),
		Next:       nameLine,
		NextWithin: 200,
		Title:      "unhandled exception in $component", Component: "$name"},
	{Kind: KindException,
		Match:      Re("UNHANDLED EXCEPTION", `UNHANDLED EXCEPTION(?:.*?\bNAME:? (?:\S*/)?(?P<name>[^\s,/]+))?`),
		Next:       nameLine,
		NextWithin: 2,
		Title:      "unhandled exception in $component", Component: "$name"},
	// Older kernels: "SIGNAL 11, CPU 0, PID ContextId(17)" then "NAME /bin/pcid".
	{Kind: KindException,
		Match:      Re("SIGNAL ", `\bSIGNAL (?P<sig>\d+), CPU \d+, PID `),
		Next:       nameLine,
		NextWithin: 3,
		Title:      "signal $sig in $component", Component: "$name"},

	// Rust panics in userspace: "thread 'main' (1) panicked at src/bin/getty.rs:121:6:"
	// with the message on the next line (current), or "thread 'main' panicked at 'msg',
	// src/main.rs:5:9" (before Rust 1.73). A binary under src/bin/ names itself; otherwise
	// the component in context is blamed.
	{Kind: KindPanic,
		Match: Re("panicked at '", `thread '[^']*'(?: \(\d+\))? panicked at '(?P<msg>.*)', (?P<file>(?:[^\s:']*/)?src/bin/(?P<bin>[\w-]+)\.rs|[^\s:']+)`),
		Title: "panic at $file: $msg", Component: "$bin"},
	{Kind: KindPanic,
		Match:      Re("panicked at ", `thread '[^']*'(?: \(\d+\))? panicked at (?P<file>(?:[^\s:']*/)?src/bin/(?P<bin>[\w-]+)\.rs|[^\s:']+)`),
		Next:       &Pattern{Regexp: mustRe(`^(?:[a-z0-9][\w.-]* login: )?\s*(?P<msg>\S.*)$`)},
		NextWithin: 4,
		NextSkip:   redoxLogLines,
		Title:      "panic at $file: $msg", Component: "$bin"},
	// relibc's abort(): the end of a Rust panic (part of it), or on its own (a C assert).
	{Kind: KindPanic,
		Match:  Lit("relibc: abort() called"),
		PartOf: []string{KindPanic, KindException}, PartOfWithin: 64,
		Title: "abort() called"},

	// A process that died or never became ready.
	{Kind: KindExit,
		Match: Re("pcid-spawner: driver", `pcid-spawner: driver (?:[A-Z_][A-Z0-9_]*="[^"]*" )*"?(?:[^"\s]*/)?(?P<drv>[^"\s/]+)"?.*? failed with (?P<status>.*\S)`),
		Title: "driver $drv failed with $status", Component: "$drv"},
	{Kind: KindExit,
		Match: Re("failed to execute", `(?:pcid-spawner|daemon|init): failed to execute (?:[A-Z_][A-Z0-9_]*="[^"]*" )*"?(?:[^"\s]*/)?(?P<cmd>[^"\s/:]+)"?[^:]*: (?P<err>.*)`),
		Title: "failed to execute $cmd: $err", Component: "$cmd"},
	{Kind: KindExit,
		Match: Re("exited without notifying readiness", `(?:(?:daemon|init): )?(?:[A-Z_][A-Z0-9_]*="[^"]*" )*"?(?:[^"\s]*/)?(?P<cmd>[^"\s/]+)"?(?: "[^"]*")* exited without notifying readiness`),
		Title: "$cmd exited without notifying readiness", Component: "$cmd"},
	{Kind: KindExit,
		Match: Re("daemon: ", `daemon: (?:[A-Z_][A-Z0-9_]*="[^"]*" )*"?(?:[^"\s]*/)?(?P<cmd>[^"\s/]+)"?(?: "[^"]*")* failed with (?P<status>\d+)\s*$`),
		Title: "$cmd failed to start (status $status)", Component: "$cmd"},
	{Kind: KindExit,
		Match: Re("failed with ", `(?:^|[\s"])(?:[^\s"]*/)?(?P<cmd>[^\s/"]+)"? failed with (?P<status>exit status: \d+|signal: \d+(?: \(\w+\))?)`),
		Title: "$cmd failed with $status", Component: "$cmd"},
	// Daemons built on redox-daemon's pattern (orbital) log their own exit.
	{Kind: KindExit,
		Match: Re("error during daemon execution", `error during daemon execution, exiting with status=(?P<status>[1-9]\d*)(?::\s*(?P<msg>.*))?`),
		Title: "daemon exited with status $status: $msg"},
	{Kind: KindExit,
		Match: Re("[ld.so]: failed to link", `\[ld\.so\]: failed to link '(?:[^']*/)?(?P<prog>[^'/]+)': (?P<err>.*)`),
		Title: "ld.so failed to link $prog: $err", Component: "$prog"},

	// Driver errors that do not kill anything by themselves. HDA (ihdad):
	{Kind: KindDriverError, Component: "ihdad",
		Match: Re("timeout on ", `timeout on (?P<what>clearing CORBRUN|CORB command|RIRB response|immediate response)`),
		Title: "HDA: timeout on $what"},
	{Kind: KindDriverError, Component: "ihdad",
		Match: Lit("IHDA: No output pins"),
		Title: "HDA: no output pins"},
	{Kind: KindDriverError,
		Match: Lit("failed to start reset"),
		Title: "failed to start reset"},
	// NVMe (nvmed). The failed command is pretty-printed over many lines; its last one
	// is "} failed with status 0x...".
	{Kind: KindDriverError,
		Match: Re("failed to wait for ", `failed to wait for (?P<what>not ready|ready)\b`),
		Title: "NVMe: failed to wait for $what"},
	{Kind: KindDriverError,
		Match: Re("failed with status", `(?:\bcommand\b.*|^\s*\}\s*)failed with status (?P<status>0x[0-9a-fA-F]+|\d+)`),
		Title: "NVMe: command failed with status $status"},
	// x86 local APIC error interrupt (kernel).
	{Kind: KindDriverError, Component: "kernel",
		Match: Re("nternal error", `(?i)local apic internal error`),
		Title: "local APIC internal error"},
}

func init() { Register(Redox) }
