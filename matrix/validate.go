package matrix

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// The words a matrix may use. Extend these lists when a new arch, host kind, suite or
// device is supported; validation refuses anything else, so a typo is an error and not a
// job that silently never runs.
var (
	// KnownArches are named as Redox's build names them (mk/config.mk ARCH: x86_64, aarch64,
	// i586, riscv64gc; redox 81bc5bf).
	KnownArches = []string{"x86_64", "aarch64", "i586", "riscv64gc"}
	// ArchAliases are other spellings of an arch, rewritten when the matrix loads: i686 is
	// what HARDWARE.md and older Redox builds say (mk/config.mk rewrites ARCH=i686 to i586),
	// riscv64 is QEMU's and Debian's name for riscv64gc.
	ArchAliases = map[string]string{"i686": "i586", "riscv64": "riscv64gc"}
	// KnownFirmware: u-boot is a board's U-Boot (on QEMU riscv64: OpenSBI + U-Boot).
	KnownFirmware = []string{"bios", "uefi", "u-boot"}
	// KnownKinds are the ways to reach a machine, one file each under hosts/.
	KnownKinds = []string{"qemu", "cloud-hypervisor", "serial", "ipmi", "replay", "power", "pikvm"}
	// VirtualKinds are the kinds that start the machine themselves (accel, direct
	// kernel boot and the virtual-machine defaults apply to them only).
	VirtualKinds = []string{"qemu", "cloud-hypervisor"}
	KnownAccels  = []string{"auto", "kvm", "tcg"}
	// KnownProfiles are what a boot looks like (harness profiles).
	KnownProfiles = []string{"redox", "standin"}
	// KnownSuites are the suites a matrix may name: those registered with
	// harness/engine/job.RegisterSuite (cmd/redox-hwtest's TestMatrixSuitesAreTheRegisteredOnes
	// holds the two equal; the matrix sits below the harness and cannot ask it).
	KnownSuites = []string{"boot", "drivers", "network", "abi", "guest"}
	// KnownDevices are the devices a host may list, named after Redox's drivers.
	KnownDevices = []string{
		// storage
		"nvme",        // nvmed (QEMU -device nvme)
		"ahci",        // ahcid (QEMU ich9-ahci, the q35 SATA controller)
		"ide",         // ided (QEMU piix IDE)
		"virtio-blk",  // virtio-blkd
		"usb-storage", // usbscsid
		// network
		"e1000",      // e1000d (Intel 82540EM)
		"ixgbe",      // ixgbed (Intel 10 GbE)
		"rtl8139",    // rtl8139d
		"rtl8168",    // rtl8168d
		"virtio-net", // virtio-netd
		// audio
		"hda",  // ihdad (QEMU ich9-intel-hda / intel-hda + hda-output or hda-duplex)
		"ac97", // ac97d
		"sb16", // sb16d
		// USB and input
		"xhci",       // xhcid (QEMU qemu-xhci)
		"usb-kbd",    // usbhidd
		"usb-tablet", // usbhidd
		"ps2",        // ps2d (keyboard and mouse)
		// display
		"vga",        // bgad / vesad (QEMU std VGA)
		"ramfb",      // the aarch64 framebuffer (QEMU -device ramfb)
		"virtio-gpu", // virtio-gpud
		// other
		"pcspkr", // pcspkrd
	}
)

// Defaults applied after validation.
const (
	DefaultOutDir      = "out"
	DefaultSilence     = 30 * time.Second
	DefaultBootTimeout = 120 * time.Second
	DefaultAccel       = "auto"
	DefaultSMP         = 1
	DefaultQEMUMemory  = "2048M" // Redox's mk/qemu.mk
	DefaultCHMemory    = "1024M" // Redox's Cloud Hypervisor recipe
)

// reservedPrefixes are the automatic job labels; a user label may not start with one.
var reservedPrefixes = []string{"arch:", "kind:", "variant:", "firmware:", "host:", "image:", "suite:"}

var (
	reName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	reLabel  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:=+@-]*$`)
	reMemory = regexp.MustCompile(`^[1-9][0-9]*[KMGTkmgt]?$`)
	reSHA256 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

const maxNameLen = 64

func isVirtual(kind string) bool { return slices.Contains(VirtualKinds, kind) }

// list formats a word list for "(known: ...)".
func list(words []string) string { return strings.Join(words, ", ") }

func named(noun, name, path string) string {
	if name == "" {
		return path
	}
	return noun + " " + strconv.Quote(name)
}

// validator carries the matrix being checked.
type validator struct {
	m   *Matrix
	src *source
}

func (v *validator) errorf(path string, key bool, format string, args ...any) *Error {
	return v.src.errorf(path, key, format, args...)
}

// required refuses an empty value: at the value when the key is there but empty, at the
// mapping when the key is missing.
func (v *validator) required(item, key, value, ctx, why string) *Error {
	if value != "" {
		return nil
	}
	p := childPath(item, key)
	if v.src.has(p) {
		return v.errorf(p, false, "%s in %s must not be empty%s", key, ctx, why)
	}
	return v.errorf(item, false, "missing required key %q in %s%s", key, ctx, why)
}

// oneOf refuses a value outside words (an empty value is fine: see required).
// canonicalArch rewrites an alias (ArchAliases) in place and returns the arch.
func canonicalArch(arch *string) string {
	if c, ok := ArchAliases[*arch]; ok {
		*arch = c
	}
	return *arch
}

func (v *validator) oneOf(item, key, value, ctx, what string, words []string) *Error {
	if value == "" || slices.Contains(words, value) {
		return nil
	}
	return v.errorf(childPath(item, key), false, "unknown %s %q in %s (known: %s)", what, value, ctx, list(words))
}

// unique refuses a second definition of a name, pointing at the second one.
func (v *validator) unique(seen map[string]string, item, noun, name string) *Error {
	if name == "" {
		return nil
	}
	if first, dup := seen[name]; dup {
		return v.errorf(childPath(item, "name"), false, "duplicate %s name %q (first defined at %s)", noun, name, v.src.pos(childPath(first, "name"), false))
	}
	seen[name] = item
	return nil
}

func (v *validator) name(item, noun, name string) *Error {
	if name == "" || (reName.MatchString(name) && len(name) <= maxNameLen) {
		return nil
	}
	return v.errorf(childPath(item, "name"), false, "invalid %s name %q: use up to %d letters, digits, '.', '_', '+' and '-', starting with a letter or digit", noun, name, maxNameLen)
}

// labels checks user labels (user true: image and host labels, which may not use an
// automatic prefix) or features.
func (v *validator) labels(item, key string, labels []string, ctx string, user bool) *Error {
	seen := map[string]bool{}
	for i, l := range labels {
		p := itemPath(childPath(item, key), i)
		if !reLabel.MatchString(l) {
			return v.errorf(p, false, "invalid %s %q in %s: use letters, digits and . _ : = + @ -, starting with a letter or digit", strings.TrimSuffix(key, "s"), l, ctx)
		}
		if user {
			for _, r := range reservedPrefixes {
				if strings.HasPrefix(l, r) {
					return v.errorf(p, false, "label %q in %s uses the prefix %q, which is reserved for the automatic labels", l, ctx, r)
				}
			}
		}
		if seen[l] {
			return v.errorf(p, false, "duplicate %s %q in %s", strings.TrimSuffix(key, "s"), l, ctx)
		}
		seen[l] = true
	}
	return nil
}

func (v *validator) positive(path string, d Duration, key, ctx string) *Error {
	if v.src.has(path) && d.Duration <= 0 {
		return v.errorf(path, false, "%s in %s must be positive, got %s", key, ctx, d)
	}
	return nil
}

func (m *Matrix) validate() *Error {
	v := &validator{m: m, src: m.src}
	if len(m.Images) == 0 {
		return v.errorf("images", false, "the matrix has no images")
	}
	if len(m.Hosts) == 0 {
		return v.errorf("hosts", false, "the matrix has no hosts")
	}
	if e := v.settings(); e != nil {
		return e
	}
	for _, l := range []namedList{
		{"images", "image", true, len(m.Images), func(i int) string { return m.Images[i].Name }, v.image},
		{"hosts", "host", true, len(m.Hosts), func(i int) string { return m.Hosts[i].Name }, v.host},
		{"suites", "suite", false, len(m.Suites), func(i int) string { return m.Suites[i].Name }, v.suite},
	} {
		if e := v.namedList(l); e != nil {
			return e
		}
	}
	for i := range m.Images {
		if e := v.runnable(i); e != nil {
			return e
		}
	}
	return nil
}

func (v *validator) settings() *Error {
	s := &v.m.Settings
	if e := v.positive("settings.silence", s.Silence, "silence", "settings"); e != nil {
		return e
	}
	if s.Jobs < 0 {
		return v.errorf("settings.jobs", false, "jobs in settings must not be negative, got %d", s.Jobs)
	}
	if s.ImageCacheSize != "" && !reMemory.MatchString(s.ImageCacheSize) {
		return v.errorf("settings.image_cache_size", false, "image_cache_size in settings must be a size such as \"20G\", got %q", clip(s.ImageCacheSize))
	}
	if e := v.positive("settings.boot_timeout", s.BootTimeout, "boot_timeout", "settings"); e != nil {
		return e
	}
	return v.settingsRanges(s)
}

// namedList is one of the matrix's lists of named items (images, hosts, suites).
type namedList struct {
	key, noun string
	// free: the author names the items (a suite's name is one of KnownSuites instead).
	free  bool
	len   int
	name  func(i int) string
	check func(i int, p, ctx string) *Error // the rest of item i, at p, named ctx in messages
}

// namedList checks each item's name (given, well-formed where free, unique in the list),
// then the rest of it.
func (v *validator) namedList(l namedList) *Error {
	seen := map[string]string{}
	for i := range l.len {
		name, p := l.name(i), itemPath(l.key, i)
		ctx := named(l.noun, name, p)
		e := v.required(p, "name", name, ctx, "")
		if e == nil && l.free {
			e = v.name(p, l.noun, name)
		}
		if e == nil {
			e = v.unique(seen, p, l.noun, name)
		}
		if e == nil {
			e = l.check(i, p, ctx)
		}
		if e != nil {
			return e
		}
	}
	return nil
}

// platform checks the arch (required; an alias rewritten in place) and the firmware, which
// an image and a host both name.
func (v *validator) platform(p, ctx string, arch *string, firmware string) *Error {
	if e := v.required(p, "arch", *arch, ctx, ""); e != nil {
		return e
	}
	if e := v.oneOf(p, "arch", canonicalArch(arch), ctx, "arch", KnownArches); e != nil {
		return e
	}
	return v.oneOf(p, "firmware", firmware, ctx, "firmware", KnownFirmware)
}

// imageSources are the keys of which an image has exactly one.
var imageSources = []string{"path", "url", "kernel", "transcript"}

func (v *validator) image(i int, p, ctx string) *Error {
	img := &v.m.Images[i]
	for _, e := range []*Error{
		v.platform(p, ctx, &img.Arch, img.Firmware),
		v.oneOf(p, "profile", img.Profile, ctx, "profile", KnownProfiles),
	} {
		if e != nil {
			return e
		}
	}
	if img.Console != "" && img.Console != "serial" && img.Console != "screen" {
		return v.errorf(childPath(p, "console"), false, "console in %s must be serial or screen (or left out: both), got %q", ctx, img.Console)
	}
	if img.Variant != "" && !reLabel.MatchString(img.Variant) {
		return v.errorf(childPath(p, "variant"), false, "invalid variant %q in %s: use letters, digits and . _ : = + @ -", img.Variant, ctx)
	}
	values := map[string]string{"path": img.Path, "url": img.URL, "kernel": img.Kernel, "transcript": img.Transcript}
	var given []string
	for _, k := range imageSources {
		if values[k] != "" {
			given = append(given, k)
		}
	}
	switch {
	case len(given) == 0:
		return v.errorf(p, false, "%s needs one of path, url, kernel or transcript", ctx)
	case len(given) > 1:
		// Point at whichever of them comes second in the file.
		slices.SortStableFunc(given, func(a, b string) int {
			pa, pb := v.src.pos(childPath(p, a), true), v.src.pos(childPath(p, b), true)
			if pa.Line != pb.Line {
				return pa.Line - pb.Line
			}
			return pa.Col - pb.Col
		})
		return v.errorf(childPath(p, given[1]), true, "%s has both %s and %s; give exactly one of path, url, kernel or transcript", ctx, given[0], given[1])
	}
	for _, k := range []struct{ key, value string }{{"initrd", img.Initrd}, {"cmdline", img.Cmdline}} {
		if k.value != "" && img.Kernel == "" {
			return v.errorf(childPath(p, k.key), true, "%s in %s needs kernel (it is for a direct kernel boot)", k.key, ctx)
		}
	}
	if img.URL != "" {
		u, err := url.Parse(img.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.errorf(childPath(p, "url"), false, "url in %s must be an http or https URL, got %q", ctx, img.URL)
		}
	}
	if img.Newest != "" {
		switch {
		case img.URL == "":
			return v.errorf(childPath(p, "newest"), true, "newest in %s needs url (the directory it is looked up in)", ctx)
		case !strings.HasSuffix(img.URL, "/"):
			return v.errorf(childPath(p, "url"), false, "url in %s must be a directory ending in \"/\" when newest is given, got %q", ctx, img.URL)
		case img.SHA256 != "":
			return v.errorf(childPath(p, "sha256"), true, "%s has both newest and sha256; the newest file's digest comes from the SHA256SUM beside it", ctx)
		case strings.Contains(img.Newest, "/"):
			return v.errorf(childPath(p, "newest"), false, "newest in %s is a file name pattern without \"/\", got %q", ctx, clip(img.Newest))
		}
		if _, err := path.Match(img.Newest, ""); err != nil {
			return v.errorf(childPath(p, "newest"), false, "newest in %s is not a valid pattern (%v): %q", ctx, err, clip(img.Newest))
		}
	}
	if img.SHA256 != "" {
		if img.URL == "" && img.Path == "" {
			return v.errorf(childPath(p, "sha256"), true, "sha256 in %s needs path or url", ctx)
		}
		if !reSHA256.MatchString(img.SHA256) {
			return v.errorf(childPath(p, "sha256"), false, "sha256 in %s must be 64 hex digits, got %q", ctx, clip(img.SHA256))
		}
	}
	return v.labels(p, "labels", img.Labels, ctx, true)
}

func (v *validator) host(i int, p, ctx string) *Error {
	h := &v.m.Hosts[i]
	for _, e := range []*Error{
		v.required(p, "kind", h.Kind, ctx, ""),
		v.oneOf(p, "kind", h.Kind, ctx, "host kind", KnownKinds),
		v.platform(p, ctx, &h.Arch, h.Firmware),
		v.oneOf(p, "accel", h.Accel, ctx, "accel", KnownAccels),
	} {
		if e != nil {
			return e
		}
	}
	if h.Accel != "" && !isVirtual(h.Kind) {
		return v.errorf(childPath(p, "accel"), true, "accel in %s applies only to %s hosts", ctx, strings.Join(VirtualKinds, " and "))
	}
	if h.SMP < 0 {
		return v.errorf(childPath(p, "smp"), false, "smp in %s must not be negative, got %d", ctx, h.SMP)
	}
	if h.Memory != "" && !reMemory.MatchString(h.Memory) {
		return v.errorf(childPath(p, "memory"), false, "memory in %s must be a size such as \"2048M\" or \"2G\", got %q", ctx, clip(h.Memory))
	}
	if math.IsNaN(h.TimeScale) || math.IsInf(h.TimeScale, 0) {
		return v.errorf(childPath(p, "time_scale"), false, "time_scale in %s must be a finite number", ctx)
	}
	if h.TimeScale < 0 {
		return v.errorf(childPath(p, "time_scale"), false, "time_scale in %s must not be negative, got %g", ctx, h.TimeScale)
	}
	if e := v.positive(childPath(p, "silence"), h.Silence, "silence", ctx); e != nil {
		return e
	}
	if h.Slots < 0 {
		return v.errorf(childPath(p, "slots"), false, "slots in %s must not be negative, got %d", ctx, h.Slots)
	}
	if e := v.hostRanges(h, p, ctx); e != nil {
		return e
	}
	devs := map[string]bool{}
	for j, d := range h.Devices {
		dp := itemPath(childPath(p, "devices"), j)
		if !slices.Contains(KnownDevices, d) {
			return v.errorf(dp, false, "unknown device %q in %s (known: %s)", d, ctx, list(KnownDevices))
		}
		if devs[d] {
			return v.errorf(dp, false, "duplicate device %q in %s", d, ctx)
		}
		devs[d] = true
	}
	if e := v.labels(p, "labels", h.Labels, ctx, true); e != nil {
		return e
	}
	if e := v.labels(p, "features", h.Features, ctx, false); e != nil {
		return e
	}
	settings := map[string]bool{}
	for j, f := range h.Features {
		fp := itemPath(childPath(p, "features"), j)
		if err := checkFeature(f); err != nil {
			return v.errorf(fp, false, "%v in %s", err, ctx)
		}
		if k, _, ok := strings.Cut(f, "="); ok {
			if settings[k] {
				return v.errorf(fp, false, "feature %s is set twice in %s", k, ctx)
			}
			settings[k] = true
		}
		if f == FeatureISADebugExit && h.Arch != "" && h.Arch != "x86_64" {
			return v.errorf(fp, false, "feature %s in %s needs an x86_64 machine (an ISA bus); an %s redoxer image exits through semihosting: use %s", f, ctx, h.Arch, FeatureRedoxerExit)
		}
	}
	xf := map[[2]string]string{}
	for j := range h.XFail {
		x := &h.XFail[j]
		xp := itemPath(childPath(p, "xfail"), j)
		xctx := fmt.Sprintf("xfail[%d] of %s", j, ctx)
		if e := v.required(xp, "check", x.Check, xctx, ""); e != nil {
			return e
		}
		if _, err := path.Match(x.Check, ""); err != nil {
			return v.errorf(childPath(xp, "check"), false, "check %q in %s is not a valid pattern", x.Check, xctx)
		}
		if e := v.required(xp, "reference", x.Reference, xctx, ": every xfail needs a reference (the issue that tracks the failure)"); e != nil {
			return e
		}
		if x.Image != "" && !slices.ContainsFunc(v.m.Images, func(img Image) bool { return img.Name == x.Image }) {
			return v.errorf(childPath(xp, "image"), false, "%s names unknown image %q", xctx, x.Image)
		}
		k := [2]string{x.Check, x.Image}
		if first, dup := xf[k]; dup {
			return v.errorf(childPath(xp, "check"), false, "duplicate xfail for check %q in %s (first at %s)", x.Check, ctx, v.src.pos(childPath(first, "check"), false))
		}
		xf[k] = xp
	}
	if key := passwordKey(h.Options, childPath(p, "options")); key != "" {
		return v.errorf(key, true, "options of %s must not hold a password (key %s): put it in an environment variable and name that with password_env (or a file: password_file)", ctx, strings.TrimPrefix(key, p+"."))
	}
	return nil
}

// passwordKey finds a key under options, at any depth, that names a password held in the
// matrix ("password", "bmc_password", "passwd", "pass" in a nested mapping), other than
// password_env and password_file, which name where the password is. The error names the
// key, never its value.
func passwordKey(m map[string]any, path string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		l := strings.ToLower(k)
		// password_env and password_file name where a secret is, as do their prefixed
		// forms (a pikvm host's vnc_password_env, for a second secret).
		if !strings.HasSuffix(l, "password_env") && !strings.HasSuffix(l, "password_file") &&
			(strings.Contains(l, "password") || strings.Contains(l, "passwd") || l == "pass" || l == "pw") {
			return childPath(path, k)
		}
		switch sub := m[k].(type) {
		case map[string]any:
			if key := passwordKey(sub, childPath(path, k)); key != "" {
				return key
			}
		case []any:
			for i, it := range sub {
				if mm, ok := it.(map[string]any); ok {
					if key := passwordKey(mm, itemPath(childPath(path, k), i)); key != "" {
						return key
					}
				}
			}
		}
	}
	return ""
}

func (v *validator) suite(i int, p, ctx string) *Error {
	s := &v.m.Suites[i]
	if !slices.Contains(KnownSuites, s.Name) {
		return v.errorf(childPath(p, "name"), false, "unknown suite %q (known: %s)", s.Name, list(KnownSuites))
	}
	for j, l := range s.Labels {
		if err := checkSelector(l); err != nil {
			return v.errorf(itemPath(childPath(p, "labels"), j), false, "label selector in %s: %v", ctx, err)
		}
	}
	if len(s.Commands) > 0 && s.Name != "guest" {
		return v.errorf(childPath(p, "commands"), true, "commands in %s: only the guest suite runs commands", ctx)
	}
	names := map[string]string{}
	for j := range s.Commands {
		c := &s.Commands[j]
		cp := itemPath(childPath(p, "commands"), j)
		cctx := named("command", c.Name, cp) + " of " + ctx
		if e := v.required(cp, "name", c.Name, cctx, ""); e != nil {
			return e
		}
		if e := v.unique(names, cp, "command", c.Name); e != nil {
			return e
		}
		if e := v.required(cp, "run", c.Run, cctx, ""); e != nil {
			return e
		}
	}
	return nil
}

// runnable refuses an image no host can boot.
func (v *validator) runnable(i int) *Error {
	img := &v.m.Images[i]
	p := itemPath("images", i)
	var sameArch []string
	for j := range v.m.Hosts {
		h := &v.m.Hosts[j]
		if h.Arch == img.Arch {
			sameArch = append(sameArch, h.Name)
		}
	}
	if len(sameArch) == 0 {
		var hosts []string
		for _, h := range v.m.Hosts {
			hosts = append(hosts, h.Name+" ("+h.Arch+")")
		}
		return v.errorf(childPath(p, "arch"), false, "image %q has arch %s, which no host runs (hosts: %s)", img.Name, img.Arch, list(hosts))
	}
	var why []string
	key := ""
	for j := range v.m.Hosts {
		h := &v.m.Hosts[j]
		if h.Arch != img.Arch {
			continue
		}
		ok, reason, k := fit(img, h)
		if ok {
			return nil
		}
		why = append(why, h.Name+": "+reason)
		if key == "" {
			key = k
		}
	}
	return v.errorf(childPath(p, key), false, "image %q fits no host (%s)", img.Name, strings.Join(why, "; "))
}

// fit says whether img boots on h; if not, why, and which image key is to blame.
func fit(img *Image, h *Host) (ok bool, why, key string) {
	switch {
	case h.Arch != img.Arch:
		return false, "arch " + h.Arch, "arch"
	case img.Transcript != "" && h.Kind != "replay":
		return false, "a transcript image runs only on replay hosts", "transcript"
	case img.Transcript == "" && h.Kind == "replay":
		return false, "a replay host runs only transcript images", "name"
	case img.Kernel != "" && !isVirtual(h.Kind) && h.Options["boot"] != "pxe":
		// A real machine gets a kernel and initrd only over the network (the harness serves
		// them to iPXE); otherwise it boots a disk image.
		return false, "a kernel image boots only on " + strings.Join(VirtualKinds, " or ") + " hosts, or real ones with boot: pxe", "kernel"
	case img.Firmware != "" && h.Firmware != "" && img.Firmware != h.Firmware:
		return false, "firmware " + h.Firmware, "firmware"
	case img.Console == "screen" && h.Options["console"] != "screen":
		return false, "an image that shows its boot only on the screen runs only on hosts without a serial console (options.console: screen)", "console"
	case img.Console == "serial" && h.Options["console"] == "screen":
		return false, "an image that shows its boot only on the serial line cannot be judged on a host without one", "console"
	}
	return true, "", ""
}

// fileLimits are the size limits of the files a matrix names (none for disk images and
// kernels, which the VMM reads, not the harness).
var fileLimits = map[string]struct {
	limit int64
	what  string
}{
	"transcript": {inputfile.TranscriptLimit, "a replayed transcript"},
	"expect":     {inputfile.ExpectLimit, "an expected-output file"},
}

// checkFiles refuses files the matrix names that do not exist, are not regular files
// (FIFOs, devices), or are over the limit of what the harness reads of them.
func (m *Matrix) checkFiles() *Error {
	v := &validator{m: m, src: m.src}
	check := func(p, key, value, ctx string) *Error {
		if value == "" {
			return nil
		}
		fi, err := os.Stat(m.abs(value))
		if err == nil && !fi.IsDir() {
			// Regular files only, within the limit of what the harness reads whole (issue
			// 24: a FIFO blocked the harness in open, /dev/zero ran it out of memory, a 2 GiB
			// transcript was INFRA): bad input, here, at the file's place in the matrix.
			err = inputfile.Check(m.abs(value), fileLimits[key].limit, fileLimits[key].what)
			if err == nil && key == "transcript" {
				tp := transcript.TimesPath(m.abs(value))
				if _, serr := os.Lstat(tp); serr == nil {
					err = inputfile.Check(tp, inputfile.TimesLimit, "a transcript's times file")
				}
			}
			if inputfile.IsBoundsError(err) {
				return v.errorf(childPath(p, key), false, "%s in %s: %v", key, ctx, err)
			}
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			hint := ""
			if !filepath.IsAbs(value) {
				hint = " (relative to the matrix's directory)"
			}
			return v.errorf(childPath(p, key), false, "%s in %s: %q does not exist%s", key, ctx, value, hint)
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return v.errorf(childPath(p, key), false, "%s in %s: %q cannot be read: %v", key, ctx, value, err)
		case fi.IsDir():
			return v.errorf(childPath(p, key), false, "%s in %s: %q is a directory, not a file", key, ctx, value)
		}
		return nil
	}
	kept := m.Images[:0:0]
	for i := range m.Images {
		img := &m.Images[i]
		p := itemPath("images", i)
		ctx := named("image", img.Name, p)
		img.src, img.path = m.src, p // before filtering shifts the indexes
		keep := true
		for _, k := range []struct{ key, value string }{
			{"path", img.Path}, {"kernel", img.Kernel}, {"initrd", img.Initrd}, {"transcript", img.Transcript},
		} {
			if e := check(p, k.key, k.value, ctx); e != nil {
				if img.Optional {
					keep = false
					m.Skipped = append(m.Skipped, fmt.Sprintf("image %s left out: %s", img.Name, e.Msg))
					break
				}
				return e
			}
		}
		if keep {
			kept = append(kept, *img)
		}
	}
	m.Images = kept
	for i := range m.Suites {
		s := &m.Suites[i]
		for j := range s.Commands {
			c := &s.Commands[j]
			cp := itemPath(childPath(itemPath("suites", i), "commands"), j)
			if e := check(cp, "expect", c.Expect, named("command", c.Name, cp)+" of "+named("suite", s.Name, "")); e != nil {
				return e
			}
		}
	}
	return nil
}

// abs resolves a file name of the matrix against its directory.
func (m *Matrix) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(m.Dir, p)
}

// complete applies the defaults and makes every file name absolute.
func (m *Matrix) complete() {
	s := &m.Settings
	if s.OutDir == "" {
		s.OutDir = DefaultOutDir
	}
	s.OutDir = m.abs(s.OutDir)
	if s.ImageCache != "" {
		s.ImageCache = m.abs(s.ImageCache)
	}
	if s.Silence.Duration == 0 {
		s.Silence.Duration = DefaultSilence
	}
	if s.BootTimeout.Duration == 0 {
		s.BootTimeout.Duration = DefaultBootTimeout
	}
	for i := range m.Images {
		img := &m.Images[i]
		if img.path == "" {
			img.src, img.path = m.src, itemPath("images", i)
		}
		if img.Profile == "" {
			img.Profile = "redox"
			if img.Kernel != "" || img.Variant == "standin" {
				img.Profile = "standin"
			}
		}
		for _, f := range []*string{&img.Path, &img.Kernel, &img.Initrd, &img.Transcript, &img.ABIBaseline, &img.Sysroot} {
			*f = m.abs(*f)
		}
	}
	for i := range m.Hosts {
		h := &m.Hosts[i]
		h.src, h.path = m.src, itemPath("hosts", i)
		if h.Silence.Duration == 0 {
			h.Silence = s.Silence
		}
		if !isVirtual(h.Kind) {
			continue
		}
		if h.Accel == "" {
			h.Accel = DefaultAccel
		}
		if h.SMP == 0 {
			h.SMP = DefaultSMP
		}
		if h.Memory == "" {
			h.Memory = DefaultQEMUMemory
			if h.Kind == "cloud-hypervisor" {
				h.Memory = DefaultCHMemory
			}
		}
		if h.Kind == "qemu" {
			if h.Machine == "" {
				// redox mk/qemu.mk (81bc5bf) QEMU_MACHINE per ARCH.
				h.Machine = map[string]string{"x86_64": "q35", "aarch64": "virt", "i586": "pc", "riscv64gc": "virt,acpi=off"}[h.Arch]
			}
			if h.CPU == "" {
				// mk/qemu.mk QEMU_CPU without KVM (x86_64's core2duo is hosts/qemu's default,
				// which KVM replaces with host).
				h.CPU = map[string]string{"aarch64": "max", "i586": "pentium2", "riscv64gc": "max"}[h.Arch]
			}
		}
	}
	if len(m.Suites) == 0 {
		m.Suites = []Suite{{Name: "boot"}}
	}
	for i := range m.Suites {
		for j := range m.Suites[i].Commands {
			c := &m.Suites[i].Commands[j]
			c.Expect = m.abs(c.Expect)
		}
	}
}
