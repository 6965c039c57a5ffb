package profile

// Redox is what a Redox OS boot prints on its serial console (DESIGN.md section 4, checked
// against the real transcripts in ../shared/redox-logs).
var Redox = &Profile{
	Name: "redox",
	Stages: []Stage{
		{Name: "firmware", Optional: true, Markers: []Pattern{Lit("BdsDxe: starting"), Lit("BdsDxe: loading")}},
		{Name: "bootloader", Optional: true, Markers: []Pattern{Lit("Redox OS Bootloader"), Lit("Looking for RedoxFS")}},
		{Name: "kernel", Markers: []Pattern{Lit("Redox OS starting"), Lit("kernel::startup::memory")}},
		{Name: "init", Markers: []Pattern{Lit("[src/initnsmgr.rs"), Lit("vesad:"), Lit("fbbootlogd")}},
		{Name: "drivers", Markers: []Pattern{Lit("[@pcid"), Lit("pcid-spawner")}},
		{Name: "network", Optional: true, Markers: []Pattern{Lit("DHCP: New IP"), Lit("smolnetd")}},
		{Name: "login", Markers: []Pattern{Lit("redox login:")}},
		{Name: "shell", Optional: true, Markers: []Pattern{Lit("Welcome to Redox OS")}},
	},
	Responses: []Response{
		// The bootloader waits forever for Enter when a display exists.
		{On: Lit("Arrow keys and enter select mode"), Send: "\r"},
	},
	Signatures: []Signature{
		{Kind: KindKernelPanic, Fatal: true,
			Match: Re("KERNEL PANIC", `KERNEL PANIC: panicked at (?P<file>\S+?)(?::\d+)*:?\s*(?P<msg>.*)`),
			Title: "kernel panic at $file: $msg", Component: "kernel"},
		{Kind: KindException,
			Match: Re("UNHANDLED EXCEPTION", `UNHANDLED EXCEPTION.*NAME (?P<name>\S+)`),
			Title: "unhandled exception in $name", Component: "$name"},
		{Kind: KindPanic,
			Match: Re("panicked at", `thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?P<file>[^:]+)`),
			Next:  &Pattern{Regexp: mustRe(`^(?P<msg>.+)$`)},
			Title: "panic at $file: $msg"},
		{Kind: KindExit,
			Match: Re("failed with exit status", `(?P<cmd>\S+) failed with exit status: (?P<status>\d+)`),
			Title: "$cmd failed with exit status $status", Component: "$cmd"},
	},
	Benign: []Pattern{
		Lit(`Scheme "file" not found in namespace`),
		Lit("Couldn't retrieve PCIe info"),
	},
	Components: []ComponentRule{
		{Match: Re("pcid-spawner", `pcid-spawner: spawn "(?:[^"]*/)?(?P<c>[^"/]+)"`), Spawn: true},
		{Match: Re("@", `\[(?P<c>[A-Za-z0-9_-]*)@(?P<m>[A-Za-z0-9_-]+)[A-Za-z0-9_:]*:\d+ [A-Z]+\]`)},
		{Match: Re("NAME ", `NAME (?:\S*/)?(?P<c>\S+)`)},
		{Match: Re(":", `^(?P<c>[a-z][a-z0-9_-]*d): `)},
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

func init() { Register(Redox) }
