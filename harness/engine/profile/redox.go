package profile

// Redox is what a Redox OS boot prints on its serial console. Every string is traced to the
// upstream file that prints it in docs/redox-facts.md (repo, path, commit; a test keeps that
// table complete), and checked against the real transcripts in ../shared/redox-logs. Where
// upstream changed a format, every format an image of the last two years prints is here.
// Every pattern is unanchored or allows a leading prompt, because log lines land in the
// middle of the login prompt and of typed echo ("redox login: DHCP: ...").
var Redox = &Profile{
	Name: "redox",
	Stages: []Stage{
		{Name: "firmware", Optional: true, Markers: []Pattern{
			Lit("BdsDxe: starting"), Lit("BdsDxe: loading"), Lit("SeaBIOS (version"), Lit("U-Boot 20"),
		}},
		{Name: "bootloader", Optional: true, Markers: []Pattern{
			Lit("Redox OS Bootloader"), Lit("Looking for RedoxFS"), Lit("RedoxFS password"),
			Lit("Arrow keys and enter select mode"),
			// The bootloader loading the kernel and initfs (a paste may start here):
			// bootloader src/main.rs load_to_memory prints "<path>: n/N MiB", the path
			// "kernel" before 848002b, "boot/kernel" from 848002b and "usr/lib/boot/kernel"
			// from a8dc023 (both 2026-03-07); "live: n/N MiB" is the live-disk copy.
			Re(" MiB", `(?:^|[\s/])(?:kernel|initfs|live): \d+/\d+ MiB`),
			// aarch64 UEFI: the bootloader's last line before it jumps to the kernel
			// (bootloader src/os/uefi/arch/aarch64.rs "kernel_entry({:#x}, ...)").
			Lit("kernel_entry("),
			// The BIOS loader's own progress lines (on VGA; on serial where the firmware
			// mirrors the screen, and read from the screen by OCR): "Stage 1", "Stage 2"
			// (bootloader b74f53a asm/x86-unknown-none/stage1.asm:25-29,57-61 print
			// stage_msg `db "Stage ",0` and the digit, since dfd5ca4 2022-09-06); before it
			// "Redox Loader - Stage One" / "... - Stage Two" (b1cdecc^ x86/bootsector.asm:139,141,
			// since ef12656 2016-09-01) and "Startup Arch", its last line before it jumps
			// to the kernel (b1cdecc^ x86/startup-common.asm:156 `startup_arch_msg: db
			// "Startup Arch",13,10,0`, 30e1107 2016-11-17 to b1cdecc 2022-02-02).
			Lit("Redox Loader - Stage"), Re("Stage ", `^\s*Stage [12]\s*$`), Lit("Startup Arch"),
		}},
		{Name: "kernel", Markers: []Pattern{
			Lit("Redox OS starting"),
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
		// The smolnetd unit runs the binary "netstack" (redox init.d/10_smolnetd.service),
		// which still logs as "smolnetd"/"smoltcpd"; netcfg-auto ("netcfg-auto: DHCP
		// configured: ...") is RedoxOS-Nix's, not upstream's: kept for those images.
		{Name: "network", Optional: true, Markers: []Pattern{
			Lit("DHCP"), Lit("smolnetd"), Lit("smoltcpd"), Lit("dhcpd"), Lit("netcfg-auto"),
		}},
		{Name: "login", Markers: []Pattern{
			Re("login:", `(?:^|[^\w.-])[a-z0-9][a-z0-9.-]* login:`),
		}},
		// A shell is up: the motd ("Welcome to Redox OS!", userutils res/motd, or a
		// custom one naming Redox), or ion's default prompt with or without a motd (ion
		// src/lib/shell/variables.rs: "${USER}:${SWD}# " before 460fe0dd 2025-06-04,
		// "$ " for users other than root since; colours and the title escape are
		// stripped by the console normaliser): "user:~$ ", "root:~# ".
		{Name: "shell", Optional: true, Markers: []Pattern{
			Re("Welcome to ", `Welcome to .*Redox`),
			Re(":~", `^[a-z_][a-z0-9_-]*:~\S*[#$] `),
			Re(":/", `^[a-z_][a-z0-9_-]*:/\S*[#$] `),
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
		// ipcd's complaint on every keystroke of some shells: "open(path: ''): Attempting
		// to open an unnamed socket without O_CREAT." on older images, "uds_stream:
		// open({path:?}, {flags:x}): Attempting ..." since base 55146b6e (ipcd
		// src/uds/stream.rs). Not relibc's.
		Lit("Attempting to open an unnamed socket without O_CREAT"),
	},
	Components: []ComponentRule{
		// The BIOS loader's progress lines (see the bootloader stage): a stall after
		// "Stage 2" / "Stage Two" is the loader's; after "Startup Arch" the loader has
		// jumped to the kernel, so a stall there is the kernel's early start.
		{Match: Lit("Startup Arch"), Name: "kernel"},
		{Match: Re("Stage ", `^\s*(?:Redox Loader - )?Stage (?:[12]|One|Two)\s*$`), Name: "bootloader"},
		{Match: Re("pcid-spawner: spawn", RedoxSpawn), Spawn: true},
		// The kernel naming a process (exception, old SIGNAL, kernel panic context).
		{Match: Re("NAME", `\bNAME:? (?:\S*/)?(?P<c>[^\s,/]+)`)},
		// "<timestamp> [<crate>@<module>:<line> <LEVEL>]": the crate, else the module's crate.
		{Match: Re("@", `\[(?P<c>[A-Za-z0-9_-]*)@(?P<m>[A-Za-z0-9_-]+)[A-Za-z0-9_:]*:\d+ [A-Z]+\]`)},
		{Match: Re("kernel", `kernel(?:::\w+)*:(?:TRACE|DEBUG|INFO|WARN|ERROR) -- `), Name: "kernel"},
		// A daemon's own prefix ("smoltcpd: ...", "audiod: ..."), after a prompt if one
		// is in the way.
		// login's password prompt (userutils src/bin/login.rs "password: "), which the
		// daemon rule below would take for a daemon called "passwor".
		{Match: Re("password: ", `^password: `), Name: "login"},
		{Match: Re("d: ", `^(?:[a-z0-9][\w.-]* login: |\S*[#>$] )?(?P<c>[a-z][a-z0-9_-]*d): `)},
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
	// Who logs in depends on what the job needs (Login.For): since userutils 3bdd1d9
	// (2026-01-20) the passwordless "user" gets only the schemes /etc/login_schemes.toml
	// lists for it, and redox 81bc5bf config/base.toml lists neither "logging" (driver
	// logs) nor "netcfg" (routes, addresses) nor a driver's own scheme ("audiohw");
	// "root" (password "password", config/base.toml [users.root]) gets "*". The login
	// prompts are userutils src/bin/login.rs "redox login: " and "password: ".
	Login: Login{Stage: "login", Shell: "shell", User: "user", PasswordPrompt: "password:",
		Welcome: "Welcome to Redox OS", Accounts: []Account{
			{User: "user", Reach: RedoxUserSchemes},
			{User: "root", Password: "password", Reach: []string{"*"}},
		}},
	DriverComponents: map[string][]string{
		"nvme":       {"nvmed"},
		"e1000":      {"e1000d"},
		"hda":        {"ihdad", "audiod"},
		"xhci":       {"xhcid"},
		"ahci":       {"ahcid"},
		"virtio-blk": {"virtio-blkd"},
		"virtio-net": {"virtio-netd"},
		"ps2":        {"ps2d"},
		"ide":        {"ided"},
		"ac97":       {"ac97d", "audiod"},
	},
}

// RedoxUserSchemes are the schemes "user" reaches: [user_schemes.user] of
// /etc/login_schemes.toml in redox 81bc5bf config/base.toml.
var RedoxUserSchemes = []string{"debug", "event", "memory", "pipe", "time", "sys", "rand", "null", "zero", "log",
	"ip", "icmp", "tcp", "udp", "shm", "chan", "uds_stream", "uds_dgram", "file", "display*",
	"proc", "pty", "sudo", "audio", "orbital"}

// redoxLogLines are other components' log lines, passed over while a panic waits for its
// message line (a daemon logging between the two is common on a busy console).
var redoxLogLines = []Pattern{
	Re("[", `^\s*(?:\d{4}-\d\d-\d\dT\S+\s+)?\[[^\]]*(?:@|\.rs:\d+)[^\]]*\]`),
	Re("kernel", `kernel(?:::\w+)*:(?:TRACE|DEBUG|INFO|WARN|ERROR) -- `),
	Lit("stack backtrace:"),
	Re("note: ", `^note: `),
	// A panic without its message: the abort is its own row (absorbed by the panic).
	Lit("relibc: abort() called"),
	Re("Abort", `^\s*(?:\[ERROR [^\]]*\] )?Abort\s*$`),
}

// cmdDebug is a std::process::Command printed with {:?} (Rust std, unix): "cd <dir> &&",
// "env -i" when init cleared the environment, the variables, "[<program>]" when it
// differs from argv[0], then argv quoted. init and daemon print commands this way (base
// 9dd6901d init/src/service.rs, init/src/script.rs, daemon/src/lib.rs): the component is
// argv[0], never an argument.
const cmdDebug = `(?:cd "(?:[^"\\]|\\.)*" && )?(?:env (?:-i )?(?:-u \S+ )*)?(?:[A-Za-z_][A-Za-z0-9_]*="(?:[^"\\]|\\.)*" )*(?:\["(?:[^"\\]|\\.)*"\] )?"(?:[^"]*/)?(?P<cmd>[^"/]+)"(?: "(?:[^"\\]|\\.)*")*`

// panicFile is the file of a Rust panic, and who it names: src/bin/<bin>.rs names a
// binary; a workspace path "<dir>/.../<crate>/src/..." (base is a workspace:
// "drivers/storage/nvmed/src/main.rs", "acpid/src/acpi.rs") names the crate; a
// dependency's path (cargo registry, git checkouts, the Rust sources) and a bare
// "src/..." name nobody (the kernel's NAME comes next, the component in context last).
const panicFile = `(?P<file>(?:[^\s:']*/)?src/bin/(?P<bin>[\w-]+)\.rs|[^\s:']*(?:\.cargo/|/rustc/|/rustlib/)[^\s:']*|(?:[\w.-]+/)*(?P<crate>[A-Za-z][\w-]*)/src/[^\s:']+|[^\s:']+)`

// nameLine is the kernel's line naming the process it killed: "NAME /bin/pcid" (old),
// "NAME: /usr/bin/x" (old aarch64), or the UNHANDLED EXCEPTION line's "NAME /usr/bin/x,".
var nameLine = &Pattern{Contains: "NAME", Regexp: mustRe(`\bNAME:? (?:\S*/)?(?P<name>[^\s,/]+)`)}

// The order matters: the first row that matches a line wins, so specific rows come first.
var redoxSignatures = []Signature{
	// Kernel panics (kernel src/panic.rs "KERNEL PANIC: {info}" since c28c147a
	// 2018-06-19). The kernel halts: nothing after one can reach login (Fatal). Rust's
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
	// Kernels before c28c147a (2016-2018): "PANIC: {fmt}", "FILE: {file}", "LINE: {line}".
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match:      Re("PANIC: ", `^\s*PANIC: (?P<msg>.*)`),
		Next:       &Pattern{Contains: "FILE: ", Regexp: mustRe(`^\s*FILE: (?P<file>\S+)`)},
		NextWithin: 2,
		Title:      "kernel panic at $file: $msg"},
	// Kernel-fatal exceptions that print no "KERNEL PANIC": x86 double fault and machine
	// check halt after the register dump (kernel src/arch/x86_shared/interrupt/
	// exception.rs println!("Double fault"), println!("Machine check fault"); the same
	// text since 2016); aarch64 "Unhandled exception" spins (src/arch/aarch64/interrupt/
	// exception.rs, since 28dfc0f4 2021-01-26).
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("Double fault", `(?:^|\s)Double fault\s*$`),
		Title: "kernel exception: double fault"},
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("Machine check fault", `(?:^|\s)Machine check fault\s*$`),
		Title: "kernel exception: machine check"},
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("Unhandled exception", `(?:^|\s)Unhandled exception\s*$`),
		Title: "kernel exception: unhandled exception (aarch64)"},
	// The bootloader's own panic. UEFI: "SETUP PANIC: panicked at ..." from the
	// redox_uefi_std panic handler (gitlab redox-os/uefi, not mirrored here: the text is
	// from a transcript, see docs/redox-facts.md), possibly right after a "live: n/N MiB"
	// progress line without a line break. BIOS: "BOOTLOADER PANIC:" and the panic on the
	// next lines (bootloader src/os/bios/panic.rs).
	{Kind: KindPanic, Fatal: true, Component: "bootloader",
		Match:      Re("SETUP PANIC", `SETUP PANIC: (?:panicked at (?:'(?P<msg>.*)', )?(?P<file>[^\s:']+)(?::\d+)*:?\s*(?P<rest>.*))?`),
		Next:       &Pattern{Regexp: mustRe(`^\s*(?P<msg>\S.*)$`)},
		NextWithin: 2,
		Title:      "bootloader panic at $file: $msg$rest"},
	{Kind: KindPanic, Fatal: true, Component: "bootloader",
		Match:      Lit("BOOTLOADER PANIC:"),
		Next:       &Pattern{Contains: "panicked at", Regexp: mustRe(`panicked at (?:'(?P<msg>.*)', )?(?P<file>[^\s:']+)`)},
		NextWithin: 2,
		Title:      "bootloader panic at $file"},
	// aarch64: a synchronous exception taken in the kernel itself; the kernel loops.
	{Kind: KindKernelPanic, Fatal: true, Component: "kernel",
		Match: Re("Synchronous exception at EL1", `Synchronous exception at EL1`),
		Title: "kernel exception: synchronous exception at EL1"},

	// A user process killed by the kernel. x86_64 prints one line; aarch64 first prints
	// "FATAL: Not an SVC induced synchronous exception", the registers and the stack (a
	// few dozen lines, ending in "GUARD PAGE"), then that same line; old aarch64 kernels
	// ended with "NAME: <process>" instead. The event waits for whichever names it.
	// After relibc's abort (a brk on aarch64) it is the same crash: part of the panic.
	{Kind: KindException,
		Match:      Re("FATAL: Not an SVC", `FATAL: Not an SVC induced synchronous exception`),
		Next:       nameLine,
		NextWithin: 200,
		PartOf:     []string{KindPanic}, PartOfWithin: 8,
		Title: "unhandled exception in $component", Component: "$name"},
	// x86: relibc's abort() is core::intrinsics::abort, a ud2: the kernel prints
	// "Invalid opcode fault" (src/arch/x86_shared/interrupt/exception.rs), the registers,
	// then the UNHANDLED EXCEPTION line (since 2e6122bc 2025-04-19) or, before, "SIGNAL 4"
	// and "NAME <process>". Right after an Abort it is that panic (one crash, one event);
	// alone it is an exception of its own, named by whichever line names the process.
	{Kind: KindException,
		Match:      Re("Invalid opcode fault", `(?:^|\s)Invalid opcode fault\s*$`),
		Next:       nameLine,
		NextWithin: 80,
		Swallow:    []Pattern{Re("SIGNAL ", `\bSIGNAL \d+, CPU \d+, PID `)},
		PartOf:     []string{KindPanic}, PartOfWithin: 8,
		Title: "invalid opcode in $component", Component: "$name"},
	{Kind: KindException,
		Match:      Re("UNHANDLED EXCEPTION", `UNHANDLED EXCEPTION(?:.*?\bNAME:? (?:\S*/)?(?P<name>[^\s,/]+))?`),
		Next:       nameLine,
		NextWithin: 2,
		Title:      "unhandled exception in $component", Component: "$name"},
	// Kernels of 2016-2017 name the fault with the code segment and address: "Protection
	// fault: 7FB at 08:FFFFFF000014BAB2", "Page fault: 07:0000000000000023 at
	// 1B:0000000000400010" (kernel 0c8ba636 arch/x86_64/src/interrupt/exception.rs:9-120
	// `println!("{} fault: {:X} at {:>02X}:{:>016X}", ...)`, then stack_trace() and
	// ksignal(); from 2016 until a5f3e505 2017-09-13 dropped the address), then "SIGNAL
	// 11, CPU 0, PID ContextId(n)" and (later) "NAME ...": one event, the SIGNAL line part
	// of it. Code segment 08 is the kernel's own.
	{Kind: KindException,
		Match:      Re("fault", `^\s*(?P<what>[A-Z][a-z]+(?: [a-z]+)*) fault(?:: [0-9A-F]+(?::[0-9A-F]+)?)? at (?P<cs>[0-9A-F]{2}):[0-9A-F]{8,16}\s*$`),
		Next:       nameLine,
		NextWithin: 40,
		Swallow:    []Pattern{Re("SIGNAL ", `\bSIGNAL \d+, CPU \d+, PID `)},
		Title:      "$what fault at $cs in $component", Component: "$name"},
	// Older kernels: "SIGNAL 11, CPU 0, PID ContextId(17)" then "NAME /bin/pcid".
	{Kind: KindException,
		Match:      Re("SIGNAL ", `\bSIGNAL (?P<sig>\d+), CPU \d+, PID `),
		Next:       nameLine,
		NextWithin: 3,
		Title:      "signal $sig in $component", Component: "$name"},

	// Rust panics in userspace: "thread 'main' (1) panicked at src/bin/getty.rs:121:6:"
	// with the message on the next line (current), or "thread 'main' panicked at 'msg',
	// src/main.rs:5:9" (before Rust 1.73). The component: the source path first
	// (panicFile), then the kernel's NAME of the process (the trailer after the abort
	// renames the event), then the component in context.
	{Kind: KindPanic,
		Match: Re("panicked at '", `thread '[^']*'(?: \(\d+\))? panicked at '(?P<msg>.*)', `+panicFile),
		Title: "panic at $file: $msg", Component: "$bin$crate"},
	{Kind: KindPanic,
		Match:      Re("panicked at ", `thread '[^']*'(?: \(\d+\))? panicked at `+panicFile),
		Next:       &Pattern{Regexp: mustRe(`^(?:[a-z0-9][\w.-]* login: )?\s*(?P<msg>\S.*)$`)},
		NextWithin: 4,
		NextSkip:   redoxLogLines,
		Title:      "panic at $file: $msg", Component: "$bin$crate"},
	// relibc's abort(): the end of a Rust panic (part of it), or on its own (a C assert).
	// Upstream relibc src/header/stdlib/mod.rs abort(): eprintln!("Abort") from 0646140d
	// (2023-03-10), log::error!("Abort") since f1532245 (2026-01-25), which the relibc
	// logger prints as "[ERROR <process>@<file>:<line>] Abort" (src/platform/logger.rs).
	// "relibc: abort() called" is RedoxOS-Nix's patch (patch-relibc-abort-dso.py).
	{Kind: KindPanic,
		Match:  Lit("relibc: abort() called"),
		PartOf: []string{KindPanic, KindException}, PartOfWithin: 64,
		Title: "abort() called"},
	{Kind: KindPanic,
		Match:  Re("Abort", `^\s*(?:\[ERROR (?P<proc>[^@\]\s]*)@[^\]]*\] )?Abort\s*$`),
		PartOf: []string{KindPanic, KindException}, PartOfWithin: 64,
		Title: "abort() called", Component: "$proc"},

	// A process that died or never became ready. init and daemon print the Command with
	// {:?} (cmdDebug): argv[0] is the component. init: "init: {command:?} failed with
	// {exit_status}", "init: {command:?} exited without notifying readiness", "init:
	// failed to execute {:?}: {}" (base 9dd6901d init/src/service.rs, script.rs); daemon:
	// "daemon: {cmd:?} exited without notifying readiness", "daemon: failed to execute
	// {cmd:?}: {err}" (daemon/src/lib.rs). Older init (redox-os/init, to 2025):
	// "init: failed to execute '<line>': <err>".
	{Kind: KindExit,
		Match: Re("failed with ", `(?:init|daemon): `+cmdDebug+` failed with (?P<status>exit status: \d+|signal: \d+(?: \(\w+\))?)`),
		Title: "$cmd failed with $status", Component: "$cmd"},
	{Kind: KindExit,
		Match: Re("exited without notifying readiness", `(?:init|daemon): `+cmdDebug+` exited without notifying readiness`),
		Title: "$cmd exited without notifying readiness", Component: "$cmd"},
	{Kind: KindExit,
		Match: Re("failed to execute", `(?:init|daemon|pcid-spawner): failed to execute `+cmdDebug+`: (?P<err>.*)`),
		Title: "failed to execute $cmd: $err", Component: "$cmd"},
	{Kind: KindExit,
		Match: Re("failed to execute '", `init: failed to execute '(?:[^'\s]*/)?(?P<cmd>[^'\s/]+)[^']*': (?P<err>.*)`),
		Title: "failed to execute $cmd: $err", Component: "$cmd"},
	// pcid-spawner's own report, until base 6096fffe (2026-01-26) moved daemonisation
	// into init; images before that print it.
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
	// relibc's dynamic loader cannot find a program or library and exits 1 (relibc
	// 63599227 src/ld_so/start.rs:448 `eprintln!("[ld.so]: failed to locate
	// '{name_or_path}'")`).
	{Kind: KindExit,
		Match: Re("[ld.so]: failed to locate", `\[ld\.so\]: failed to locate '(?:[^']*/)?(?P<prog>[^'/]+)'`),
		Title: "ld.so failed to locate $prog", Component: "$prog"},
	{Kind: KindExit,
		Match: Re("[ld.so]: failed to link", `\[ld\.so\]: failed to link '(?:[^']*/)?(?P<prog>[^'/]+)': (?P<err>.*)`),
		Title: "ld.so failed to link $prog: $err", Component: "$prog"},

	// Driver errors that do not kill anything by themselves. HDA (ihdad): every
	// log::error! of base 9dd6901d drivers/audio/ihdad/src/hda/cmdbuff.rs and device.rs.
	{Kind: KindDriverError, Component: "ihdad",
		Match: Re("timeout on ", `timeout on (?P<what>`+IHDATimeouts+`)`),
		Title: "HDA: timeout on $what"},
	{Kind: KindDriverError, Component: "ihdad",
		Match: Lit("IHDA: No output pins"),
		Title: "HDA: no output pins"},
	{Kind: KindDriverError, Component: "ihdad",
		Match: Re("reset", `failed to (?P<what>start|finish) reset`),
		Title: "HDA: failed to $what reset"},
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
	// Any other error a driver logs: drivers log through redox-log with an empty process
	// name (base 9dd6901d drivers/common/src/logger.rs; redox-log write_record "{time}{zone}
	// [{process_name}@{target}{line} {level}] {message}"), e.g. "[@ps2d::controller:291
	// ERROR] keyboard failed to reset: FE" (ps2d/src/controller.rs:291), "[@ahcid::ahci:67
	// ERROR] 2: I/O error": a driver error of that crate. Last, so the rows above name
	// the known ones; daemons with a process name (orbital, smolnetd) are not drivers. A
	// line ending in "{" opens a pretty-printed value whose last line is the event (nvmed).
	{Kind: KindDriverError,
		Match: Re(" ERROR]", `\[@(?P<crate>[A-Za-z0-9_-]+)(?:::\w+)*:\d+ ERROR\] (?:[a-z][a-z0-9_-]*d: )?(?P<msg>\S.*[^{\s])\s*$`),
		Title: "$crate: $msg", Component: "$crate"},
}

// IHDATimeouts are ihdad's "timeout on ..." errors (base 9dd6901d
// drivers/audio/ihdad/src/hda/cmdbuff.rs: CORBRUN, CORBRPRST set and clear, CORB command,
// RIRBDMAEN, RIRB response, immediate command and response; device.rs: output running).
const IHDATimeouts = `clearing CORBRUN|setting CORBRPRST|clearing CORBRPRST|CORB command|clearing RIRBDMAEN|RIRB response|immediate command|immediate response|output running`

func init() { Register(Redox) }
