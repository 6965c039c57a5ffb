package matrix

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Building blocks of the malformed matrices below; line numbers in the expectations
// count from the first line of the concatenation.
const (
	// lines 1-4
	okImage = "images:\n  - name: a\n    arch: x86_64\n    url: https://example.invalid/a.img\n"
	// 4 lines: "hosts:" then a host q35 whose last line is "    arch: x86_64"
	okHost = "hosts:\n  - name: q35\n    kind: qemu\n    arch: x86_64\n"
	// okImage + okHost: lines 1-8; a key appended to the host is on line 9.
	ok = okImage + okHost
)

var malformed = []struct {
	name  string
	yaml  string
	files bool // check that files exist (relative to testdata/)
	want  string
}{
	{"syntax error", "images:\n  - name: a\n  arch: [\n", false,
		"hw.yaml:3:3: syntax error: value is not allowed in this context"},
	{"tab indentation", "images:\n\t- name: a\n", false,
		`hw.yaml:2:1: syntax error: found character '\t' that cannot start any token`},
	{"unknown top-level key", "imagez: []\n", false,
		`hw.yaml:1:1: unknown key "imagez" at the top level (did you mean "images"? known: images, hosts, suites, settings)`},
	{"unknown host key", okImage + "hosts:\n  - name: q35-uefi\n    kind: qemu\n    arch: x86_64\n    memroy: 2G\n", false,
		`hw.yaml:9:5: unknown key "memroy" in host "q35-uefi" (did you mean "memory"? known: name, kind, arch,`},
	{"unknown xfail key", ok + "    xfail:\n      - check: boot/login\n        refrence: x\n", false,
		`hw.yaml:11:9: unknown key "refrence" in xfail[0] of host "q35" (did you mean "reference"?`},
	{"unknown settings key", ok + "settings:\n  silense: 3s\n", false,
		`hw.yaml:10:3: unknown key "silense" in settings (did you mean "silence"? known: out_dir, silence, boot_timeout, jobs, image_cache, image_cache_size)`},
	{"negative jobs", ok + "settings:\n  jobs: -1\n", false,
		`hw.yaml:10:9: jobs in settings must not be negative, got -1`},
	{"negative slots", ok + "    slots: -2\n", false,
		`hw.yaml:9:12: slots in host "q35" must not be negative, got -2`},
	{"unknown suite command key", ok + "suites:\n  - name: guest\n    commands:\n      - name: ls\n        runn: ls\n", false,
		`hw.yaml:13:9: unknown key "runn" in command "ls" of suite "guest" (did you mean "run"?`},
	{"misspelt feature", ok + "    features: [redoxer-exti]\n", false,
		`hw.yaml:9:16: unknown feature "redoxer-exti" (did you mean "redoxer-exit"? known: network, redoxer-exit,`},
	{"misspelt setting", ok + "    features:\n      - net.srever=10.0.2.2\n", false,
		`hw.yaml:10:9: unknown feature "net.srever=10.0.2.2" (did you mean "net.server"?`},
	{"bad setting value", ok + "    features: [network, char-delay=banana]\n", false,
		`hw.yaml:9:25: feature char-delay=banana: want a duration such as 2ms in host "q35"`},
	{"setting without value", ok + "    features: [char-delay]\n", false,
		`hw.yaml:9:16: feature char-delay needs a value: char-delay=<value>`},
	{"bare feature with value", ok + "    features: [network=yes]\n", false,
		`hw.yaml:9:16: feature network takes no value`},
	{"setting twice", ok + "    features: [char-delay=1ms, char-delay=2ms]\n", false,
		`hw.yaml:9:32: feature char-delay is set twice in host "q35"`},
	{"isa-debug-exit on aarch64", okImage + "hosts:\n  - name: virt\n    kind: qemu\n    arch: aarch64\n    features: [isa-debug-exit]\n", false,
		`hw.yaml:9:16: feature isa-debug-exit in host "virt" needs an x86_64 machine`},
	{"string where int", ok + "    smp: four\n", false,
		`hw.yaml:9:10: smp in host "q35" must be an integer, got string "four"`},
	{"string where list", ok + "    devices: nvme\n", false,
		`hw.yaml:9:14: devices in host "q35" must be a list, got string "nvme"`},
	{"map where list", okImage + "hosts:\n  name: q35\n", false,
		`hw.yaml:6:3: hosts at the top level must be a list, got a mapping`},
	{"list where map", ok + "settings: [silence, 30s]\n", false,
		`hw.yaml:9:11: settings at the top level must be a mapping, got a list`},
	{"list where options map", ok + "    options: [address]\n", false,
		`hw.yaml:9:14: options in host "q35" must be a mapping, got a list`},
	{"scalar where map", "images:\n  - a\n", false,
		`hw.yaml:2:5: images[0] at the top level must be a mapping, got string "a"`},
	{"number where string", "images:\n  - name: a\n    arch: x86_64\n    version: 0.10\n    url: https://example.invalid/a.img\n" + okHost, false,
		`hw.yaml:4:14: version in image "a" must be a string, got number 0.10 (quote it: "0.10")`},
	{"flow mapping wrong type", okImage + "hosts:\n  - {name: q35, kind: qemu, arch: x86_64, smp: x}\n", false,
		`hw.yaml:6:48: smp in host "q35" must be an integer, got string "x"`},
	{"integer out of range", ok + "    smp: 99999999999999999999999\n", false,
		`hw.yaml:9:10: smp in host "q35": 99999999999999999999999 is out of range`},
	{"duplicate image name", okImage + "  - name: a\n    arch: x86_64\n    url: https://example.invalid/b.img\n" + okHost, false,
		`hw.yaml:5:11: duplicate image name "a" (first defined at 2:11)`},
	{"duplicate host name", ok + "  - name: q35\n    kind: qemu\n    arch: x86_64\n", false,
		`hw.yaml:9:11: duplicate host name "q35" (first defined at 6:11)`},
	{"duplicate suite name", ok + "suites:\n  - name: boot\n  - name: drivers\n  - name: boot\n", false,
		`hw.yaml:12:11: duplicate suite name "boot" (first defined at 10:11)`},
	{"missing image name", "images:\n  - arch: x86_64\n    url: https://example.invalid/a.img\n" + okHost, false,
		`hw.yaml:2:5: missing required key "name" in images[0]`},
	{"missing host arch", okImage + "hosts:\n  - name: q35\n    kind: qemu\n", false,
		`hw.yaml:6:5: missing required key "arch" in host "q35"`},
	{"missing host kind", okImage + "hosts:\n  - name: q35\n    arch: x86_64\n", false,
		`hw.yaml:6:5: missing required key "kind" in host "q35"`},
	{"empty name", "images:\n  - name: \"\"\n    arch: x86_64\n" + okHost, false,
		`hw.yaml:2:11: name in images[0] must not be empty`},
	{"invalid name", "images:\n  - name: a b\n    arch: x86_64\n    url: https://example.invalid/a.img\n" + okHost, false,
		`hw.yaml:2:11: invalid image name "a b"`},
	{"unknown arch", "images:\n  - name: a\n    arch: x86-64\n    url: https://example.invalid/a.img\n" + okHost, false,
		`hw.yaml:3:11: unknown arch "x86-64" in image "a" (known: x86_64, aarch64, i586, riscv64gc)`},
	{"unknown firmware", okImage + "    firmware: efi\n" + okHost, false,
		`hw.yaml:5:15: unknown firmware "efi" in image "a" (known: bios, uefi, u-boot)`},
	{"unknown host kind", okImage + "hosts:\n  - name: q35\n    kind: vmware\n    arch: x86_64\n", false,
		`hw.yaml:7:11: unknown host kind "vmware" in host "q35" (known: qemu, cloud-hypervisor, serial, ipmi, replay, power, pikvm)`},
	{"unknown device", ok + "    devices: [nvme, e1000, hdaa]\n", false,
		`hw.yaml:9:28: unknown device "hdaa" in host "q35" (known: nvme,`},
	{"duplicate device", ok + "    devices: [nvme, nvme]\n", false,
		`hw.yaml:9:21: duplicate device "nvme" in host "q35"`},
	{"unknown suite", ok + "suites:\n  - name: bot\n", false,
		`hw.yaml:10:11: unknown suite "bot" (known: boot, drivers, network, abi, guest)`},
	{"image arch no host runs", okImage + "  - name: arm\n    arch: aarch64\n    url: https://example.invalid/b.img\n" + okHost, false,
		`hw.yaml:6:11: image "arm" has arch aarch64, which no host runs (hosts: q35 (x86_64))`},
	{"transcript image without replay host", okImage + "  - name: log\n    arch: x86_64\n    transcript: boot.log\n" + okHost, false,
		`hw.yaml:7:17: image "log" fits no host (q35: a transcript image runs only on replay hosts)`},
	{"kernel image on real hardware", "images:\n  - name: a\n    arch: x86_64\n    kernel: k\nhosts:\n  - name: s\n    kind: serial\n    arch: x86_64\n", false,
		`hw.yaml:4:13: image "a" fits no host (s: a kernel image boots only on qemu or cloud-hypervisor hosts, or real ones with boot: pxe)`},
	{"firmware mismatch", okImage + "    firmware: bios\n" + ok[len(okImage):] + "    firmware: uefi\n", false,
		`hw.yaml:5:15: image "a" fits no host (q35: firmware uefi)`},
	{"unknown image console", okImage + "    console: hdmi\n" + okHost, false,
		`hw.yaml:5:14: console in image "a" must be serial or screen (or left out: both), got "hdmi"`},
	{"screen-only image without a screen-only host", okImage + "    console: screen\n" + okHost, false,
		`hw.yaml:5:14: image "a" fits no host (q35: an image that shows its boot only on the screen runs only on hosts without a serial console (options.console: screen))`},
	{"image without source", "images:\n  - name: a\n    arch: x86_64\n" + okHost, false,
		`hw.yaml:2:5: image "a" needs one of path, url, kernel or transcript`},
	{"image with two sources", "images:\n  - name: a\n    arch: x86_64\n    path: a.img\n    url: https://example.invalid/a.img\n" + okHost, false,
		`hw.yaml:5:5: image "a" has both path and url; give exactly one of path, url, kernel or transcript`},
	{"initrd without kernel", okImage + "    initrd: x.img\n" + okHost, false,
		`hw.yaml:5:5: initrd in image "a" needs kernel`},
	{"url not http", "images:\n  - name: a\n    arch: x86_64\n    url: ftp://example.invalid/a.img\n" + okHost, false,
		`hw.yaml:4:10: url in image "a" must be an http or https URL, got "ftp://example.invalid/a.img"`},
	{"missing image file", "images:\n  - name: a\n    arch: x86_64\n    path: missing.img\n" + okHost, true,
		`hw.yaml:4:11: path in image "a": "missing.img" does not exist (relative to the matrix's directory)`},
	{"missing initrd file", "images:\n  - name: a\n    arch: x86_64\n    kernel: files/vmlinuz\n    initrd: files/nope.img\n" + okHost, true,
		`hw.yaml:5:13: initrd in image "a": "files/nope.img" does not exist`},
	{"image path is a directory", "images:\n  - name: a\n    arch: x86_64\n    path: files\n" + okHost, true,
		`hw.yaml:4:11: path in image "a": "files" is a directory, not a file`},
	{"missing expect file", ok + "suites:\n  - name: guest\n    commands:\n      - name: ls\n        run: ls\n        expect: ls.out\n", true,
		`hw.yaml:14:17: expect in command "ls" of suite "guest": "ls.out" does not exist`},
	{"bad duration", ok + "    silence: 30 seconds\n", false,
		`hw.yaml:9:14: silence in host "q35": invalid duration "30 seconds" (want e.g. "30s", "2m", "500ms")`},
	{"duration without unit", ok + "settings:\n  boot_timeout: 120\n", false,
		`hw.yaml:10:17: boot_timeout in settings: duration "120" needs a unit, e.g. "120s"`},
	{"duration not positive", ok + "    silence: 0s\n", false,
		`hw.yaml:9:14: silence in host "q35" must be positive, got 0s`},
	{"xfail without reference", ok + "    xfail:\n      - check: boot/login\n", false,
		`hw.yaml:10:9: missing required key "reference" in xfail[0] of host "q35": every xfail needs a reference`},
	{"xfail with empty reference", ok + "    xfail:\n      - check: boot/login\n        reference: \"\"\n", false,
		`hw.yaml:11:20: reference in xfail[0] of host "q35" must not be empty`},
	{"xfail unknown image", ok + "    xfail:\n      - check: boot/login\n        image: b\n        reference: https://x.invalid/1\n", false,
		`hw.yaml:11:16: xfail[0] of host "q35" names unknown image "b"`},
	{"negative smp", ok + "    smp: -2\n", false,
		`hw.yaml:9:10: smp in host "q35" must not be negative, got -2`},
	{"negative time_scale", ok + "    time_scale: -1.5\n", false,
		`hw.yaml:9:17: time_scale in host "q35" must not be negative, got -1.5`},
	{"infinite time_scale", ok + "    time_scale: .inf\n", false,
		`hw.yaml:9:17: time_scale in host "q35" must be a finite number, got .inf`},
	{"bad memory", ok + "    memory: 2 GB\n", false,
		`hw.yaml:9:13: memory in host "q35" must be a size such as "2048M" or "2G", got "2 GB"`},
	// Issue 24: ranges at load, so a VMM never refuses what the matrix accepted.
	{"memory over 2^64 bytes", ok + "    memory: 99999999999999999999T\n", false,
		`hw.yaml:9:13: memory in host "q35" is "99999999999999999999T", over what a VMM accepts (below 2^64 bytes)`},
	{"memory under the minimum", ok + "    memory: 2K\n", false,
		`hw.yaml:9:13: memory in host "q35" is 2K, under the 16M minimum`},
	{"smp over the maximum", ok + "    smp: 100000\n", false,
		`hw.yaml:9:10: smp in host "q35" is 100000, over the maximum of 255`},
	{"time_scale over the maximum", ok + "    time_scale: 1000.5\n", false,
		`hw.yaml:9:17: time_scale in host "q35" is 1000.5, over the maximum of 100`},
	{"slots over the maximum", ok + "    slots: 99999\n", false,
		`hw.yaml:9:12: slots in host "q35" is 99999, over the maximum of 256`},
	{"silence over the maximum", ok + "    silence: 1000h\n", false,
		`hw.yaml:9:14: silence in host "q35" is 1000h0m0s, over the maximum of 24h0m0s`},
	{"boot_timeout over the maximum", ok + "settings:\n  boot_timeout: 2562047h\n", false,
		`hw.yaml:10:17: boot_timeout in settings is 2562047h0m0s, over the maximum of 24h0m0s`},
	{"jobs over the maximum", ok + "settings:\n  jobs: 1000000\n", false,
		`hw.yaml:10:9: jobs in settings is 1000000, over the maximum of 4096`},
	{"accel on real hardware", okImage + "hosts:\n  - name: rpi\n    kind: serial\n    arch: x86_64\n    accel: kvm\n", false,
		`hw.yaml:9:5: accel in host "rpi" applies only to qemu and cloud-hypervisor hosts`},
	{"duplicate key", ok + "    smp: 2\n    smp: 4\n", false,
		`hw.yaml:10:5: duplicate key "smp" (first at 9:5)`},
	{"duplicate key in flow mapping", okImage + "hosts:\n  - {name: q35, name: q36}\n", false,
		`hw.yaml:6:17: duplicate key "name" (first at 6:6)`},
	{"empty document", "", false,
		`hw.yaml:1:1: empty document`},
	{"comments only", "# nothing here\n", false,
		`hw.yaml:1:1: empty document`},
	{"two documents", ok + "---\n" + okImage, false,
		`hw.yaml:9:1: a matrix is one YAML document; a second one starts here`},
	{"list at the top", "- images\n", false,
		`hw.yaml:1:1: a matrix must be a mapping with images, hosts and suites, got a list`},
	{"no images", "images: []\n" + okHost, false,
		`hw.yaml:1:9: the matrix has no images`},
	{"no hosts", okImage, false,
		`hw.yaml:1:1: the matrix has no hosts`},
	{"password in options", okImage + "hosts:\n  - name: bmc\n    kind: ipmi\n    arch: x86_64\n    options:\n      address: 10.0.0.5\n      password: hunter2\n", false,
		`hw.yaml:11:7: options of host "bmc" must not hold a password`},
	{"non-string option key", ok + "    options: {1: a}\n", false,
		`hw.yaml:9:15: key number 1 in options in host "q35" must be a string`},
	{"commands outside guest", ok + "suites:\n  - name: boot\n    commands:\n      - name: ls\n        run: ls\n", false,
		`hw.yaml:11:5: commands in suite "boot": only the guest suite runs commands`},
	{"command without run", ok + "suites:\n  - name: guest\n    commands:\n      - name: ls\n", false,
		`hw.yaml:12:9: missing required key "run" in command "ls" of suite "guest"`},
	{"reserved label", ok + "    labels: [ci, arch:x86_64]\n", false,
		`hw.yaml:9:18: label "arch:x86_64" in host "q35" uses the prefix "arch:"`},
	{"bad label selector", ok + "suites:\n  - name: drivers\n    labels: [\"!\"]\n", false,
		`hw.yaml:11:14: label selector in suite "drivers": "!" needs a label after it`},
	{"yaml tag", ok + "    smp: !!str 4\n", false,
		`hw.yaml:9:10: YAML tags such as !!str are not supported`},
	{"unknown alias", ok + "    devices: *devs\n", false,
		`hw.yaml:9:14: unknown alias *devs`},
	{"merge key not first", okImage + "hosts:\n  - &base\n    name: q35\n    kind: qemu\n    arch: x86_64\n  - name: q35-2\n    <<: *base\n", false,
		`hw.yaml:11:5: the merge key << must be the first key of its mapping`},
	{"newest without a directory url", "images:\n  - name: a\n    arch: x86_64\n    url: https://example.invalid/img/a.img.zst\n    newest: \"redox_*.zst\"\n" + okHost, false,
		`hw.yaml:4:10: url in image "a" must be a directory ending in "/" when newest is given`},
	{"newest with sha256", "images:\n  - name: a\n    arch: x86_64\n    url: https://example.invalid/img/\n    newest: \"redox_*.zst\"\n    sha256: " + strings.Repeat("a", 64) + "\n" + okHost, false,
		`hw.yaml:6:5: image "a" has both newest and sha256`},
	{"newest without url", "images:\n  - name: a\n    arch: x86_64\n    path: a.img\n    newest: \"redox_*.zst\"\n" + okHost, false,
		`hw.yaml:5:5: newest in image "a" needs url`},
	{"image cache size", ok + "settings:\n  image_cache_size: lots\n", false,
		`hw.yaml:10:21: image_cache_size in settings must be a size such as "20G", got "lots"`},
	{"recursive alias", ok + "    options: &o\n      a: [*o]\n", false,
		`hw.yaml:10:11: nesting too deep`},
}

func TestMalformed(t *testing.T) {
	if len(malformed) < 14 {
		t.Fatalf("only %d cases", len(malformed))
	}
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			m, err := LoadOptions{SkipFileChecks: !tc.files}.Parse("hw.yaml", []byte(tc.yaml), "testdata")
			if err == nil {
				t.Fatalf("no error; matrix %+v", m)
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not a *matrix.Error: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

// TestBadFiles loads each testdata/bad/*.yaml; its first line says "# want: PREFIX".
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/bad/*.yaml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s: first line must be # want: PREFIX", f)
			}
			_, err = Load(f)
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("got %v (%T), want a *matrix.Error", err, err)
			}
			if me.File != f {
				t.Errorf("File = %q, want %q", me.File, f)
			}
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got  %s\nwant %s", err, want)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	var me *Error
	if !errors.As(err, &me) || me.Line != 0 {
		t.Fatalf("got %#v", err)
	}
	if want := "testdata/does-not-exist.yaml: cannot read the matrix: no such file or directory"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func loadGood(t *testing.T) *Matrix {
	t.Helper()
	m, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDefaults(t *testing.T) {
	m := loadGood(t)
	dir, _ := filepath.Abs("testdata")
	if m.Dir != dir || m.Path != filepath.Join(dir, "good.yaml") {
		t.Errorf("Dir %q Path %q", m.Dir, m.Path)
	}
	s := m.Settings
	if s.OutDir != filepath.Join(dir, "out") || s.Silence.Duration != 20*time.Second || s.BootTimeout.Duration != 120*time.Second {
		t.Errorf("settings %+v", s)
	}
	img := m.Images[0]
	if img.Profile != "standin" || img.Kernel != filepath.Join(dir, "files/vmlinuz") || img.Initrd != filepath.Join(dir, "files/initrd.img") {
		t.Errorf("image %+v", img)
	}
	if p := m.Images[4].Profile; p != "redox" {
		t.Errorf("transcript image profile %q", p)
	}
	q35, bios, virt, replay := m.Hosts[0], m.Hosts[1], m.Hosts[2], m.Hosts[3]
	if q35.Accel != "auto" || q35.SMP != 1 || q35.Memory != "2048M" || q35.Machine != "q35" || q35.CPU != "" || q35.Silence.Duration != 20*time.Second {
		t.Errorf("q35 %+v", q35)
	}
	if bios.Accel != "tcg" || bios.SMP != 2 || bios.Memory != "1G" || bios.Silence.Duration != 45*time.Second || bios.TimeScale != 10 {
		t.Errorf("pc-bios %+v", bios)
	}
	if virt.Machine != "virt" || virt.CPU != "max" {
		t.Errorf("virt %+v", virt)
	}
	if replay.Accel != "" || replay.SMP != 0 || replay.Memory != "" || replay.Silence.Duration != 20*time.Second {
		t.Errorf("replay host got virtual-machine defaults: %+v", replay)
	}
	if c := m.Suites[2].Commands[0]; c.Expect != filepath.Join(dir, "files/hello.out") {
		t.Errorf("expect %q", c.Expect)
	}
}

func TestDefaultSuite(t *testing.T) {
	m, err := Parse("hw.yaml", []byte(ok), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Suites) != 1 || m.Suites[0].Name != "boot" {
		t.Errorf("suites %+v", m.Suites)
	}
	if m.Path != "" {
		t.Errorf("Parse set Path %q", m.Path)
	}
}

func ids(jobs []Job) []string {
	var s []string
	for _, j := range jobs {
		s = append(s, j.ID())
	}
	return s
}

func TestJobsOrder(t *testing.T) {
	m := loadGood(t)
	want := []string{
		"standin-kernel@q35-uefi/boot",
		"standin-kernel@pc-bios/boot",
		"standin-uefi@q35-uefi/boot",
		"standin-bios@pc-bios/boot",
		"standin-arm@virt/boot",
		"redox-log@replay/boot",
		"standin-kernel@q35-uefi/drivers",
		"standin-kernel@pc-bios/drivers",
		"standin-uefi@q35-uefi/drivers",
		"standin-bios@pc-bios/drivers",
		"standin-arm@virt/drivers",
		"standin-kernel@q35-uefi/guest",
		"standin-uefi@q35-uefi/guest",
	}
	for range 5 { // the same every time
		if got := ids(m.Jobs(Filter{})); !slices.Equal(got, want) {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestJobLabels(t *testing.T) {
	m := loadGood(t)
	j := m.Jobs(Filter{})[0]
	want := []string{"suite:boot", "image:standin-kernel", "host:q35-uefi", "arch:x86_64", "kind:qemu", "variant:standin", "firmware:uefi", "fast", "ci"}
	if got := j.Labels(); !slices.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if !j.HasLabel("fast") || j.HasLabel("slow") {
		t.Error("HasLabel")
	}
	// A transcript image on a host without firmware has no firmware label.
	for _, j := range m.Jobs(Filter{Labels: []string{"kind:replay"}}) {
		for _, l := range j.Labels() {
			if strings.HasPrefix(l, "firmware:") {
				t.Errorf("%s has %s", j.ID(), l)
			}
		}
	}
}

func TestFilter(t *testing.T) {
	m := loadGood(t)
	f, err := ParseFilter(" arch:x86_64, !kind:replay ,suite:boot")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"standin-kernel@q35-uefi/boot",
		"standin-kernel@pc-bios/boot",
		"standin-uefi@q35-uefi/boot",
		"standin-bios@pc-bios/boot",
	}
	if got := ids(m.Jobs(f)); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if f.String() != "arch:x86_64,!kind:replay,suite:boot" {
		t.Errorf("String %q", f)
	}
	if got := ids(m.Jobs(Filter{Labels: []string{"fast", "firmware:bios"}})); !slices.Equal(got, []string{"standin-kernel@pc-bios/boot", "standin-kernel@pc-bios/drivers"}) {
		t.Errorf("fast+bios: %v", got)
	}
	if got := m.Jobs(Filter{Labels: []string{"no-such-label"}}); len(got) != 0 {
		t.Errorf("unknown label selected %v", ids(got))
	}
	if f, err := ParseFilter(""); err != nil || len(f.Labels) != 0 {
		t.Errorf("empty filter: %v %v", f, err)
	}
	for _, bad := range []string{"a,,b", "!", "a b", "x/y", ","} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
}

func TestShards(t *testing.T) {
	m := loadGood(t)
	for _, filter := range []Filter{{}, {Labels: []string{"!suite:guest"}}} {
		all := ids(m.Jobs(filter))
		for shards := 1; shards <= len(all)+1; shards++ {
			var union []string
			seen := map[string]bool{}
			for s := range shards {
				f := filter
				f.Shard, f.Shards = s, shards
				if err := f.Validate(); err != nil {
					t.Fatal(err)
				}
				got := ids(m.Jobs(f))
				if shards > 1 && len(all) >= shards && (len(got) < len(all)/shards || len(got) > len(all)/shards+1) {
					t.Errorf("shard %d/%d unbalanced: %d of %d", s, shards, len(got), len(all))
				}
				for _, id := range got {
					if seen[id] {
						t.Errorf("%s in two shards of %d", id, shards)
					}
					seen[id] = true
				}
				union = append(union, got...)
			}
			slices.Sort(union)
			sorted := slices.Sorted(slices.Values(all))
			if !slices.Equal(union, sorted) {
				t.Errorf("%d shards: union %v != all %v", shards, union, sorted)
			}
		}
	}
	if err := (Filter{Shard: 3, Shards: 3}).Validate(); err == nil {
		t.Error("shard 3 of 3 accepted")
	}
	if got := m.Jobs(Filter{Shard: 3, Shards: 3}); len(got) != 0 {
		t.Errorf("out-of-range shard got jobs %v", ids(got))
	}
}

func TestXFailFor(t *testing.T) {
	m := loadGood(t)
	h := &m.Hosts[0]
	if x := h.XFailFor("drivers/hda", "standin-uefi"); x == nil || !strings.HasSuffix(x.Reference, "/2") {
		t.Errorf("image-specific entry not preferred: %+v", x)
	}
	if x := h.XFailFor("drivers/hda", "standin-kernel"); x == nil || !strings.HasSuffix(x.Reference, "/1") {
		t.Errorf("pattern entry: %+v", x)
	}
	if x := h.XFailFor("drivers/nvme", ""); x == nil || x.Check != "drivers/*" {
		t.Errorf("pattern entry without image: %+v", x)
	}
	if x := h.XFailFor("boot/login", "standin-uefi"); x != nil {
		t.Errorf("unexpected %+v", x)
	}
	if x := m.Hosts[1].XFailFor("drivers/hda", "x"); x != nil {
		t.Errorf("host without xfail: %+v", x)
	}
	j := Job{Image: m.Images[1], Host: *h}
	if x := j.XFail("drivers/hda"); x == nil || !strings.HasSuffix(x.Reference, "/2") {
		t.Errorf("Job.XFail %+v", x)
	}
}

func TestHostHelpers(t *testing.T) {
	m := loadGood(t)
	h := &m.Hosts[0]
	if !h.HasDevice("nvme") || h.HasDevice("ahci") || !h.Virtual() || m.Hosts[3].Virtual() {
		t.Error("HasDevice/Virtual")
	}
	e := h.Errorf("devices[2]", "no %s here", "hda")
	if e.Error() != "testdata/good.yaml:39:28: no hda here" {
		t.Errorf("Errorf: %v", e)
	}
	// A key the host does not have points at the host.
	if e := h.Errorf("options.port", "x"); e.Line != 35 || e.Col != 5 {
		t.Errorf("missing key: %v", e)
	}
	if e := m.Images[0].Errorf("cmdline", "bad"); e.Error() != "testdata/good.yaml:11:14: bad" {
		t.Errorf("image Errorf: %v", e)
	}
}

type replayOptions struct {
	Speed float64  `yaml:"speed"`
	Pace  Duration `yaml:"pace"`
	Loop  bool     `yaml:"loop"`
}

type ipmiOptions struct {
	Address     string   `yaml:"address"`
	Port        int      `yaml:"port"`
	User        string   `yaml:"user"`
	PasswordEnv string   `yaml:"password_env"`
	Cipher      int      `yaml:"cipher"`
	Timeouts    struct { // nested structs are checked too
		Connect Duration `yaml:"connect"`
	} `yaml:"timeouts"`
}

func TestDecodeOptions(t *testing.T) {
	m := loadGood(t)
	o := replayOptions{Loop: true}
	if err := m.Hosts[3].DecodeOptions(&o); err != nil {
		t.Fatal(err)
	}
	if o.Speed != 4 || o.Pace.Duration != 5*time.Millisecond || !o.Loop {
		t.Errorf("decoded %+v", o)
	}
	// A host without options leaves the defaults alone.
	o = replayOptions{Speed: 1}
	if err := m.Hosts[0].DecodeOptions(&o); err != nil || o.Speed != 1 {
		t.Errorf("no options: %+v %v", o, err)
	}

	src := okImage + "hosts:\n  - name: bmc\n    kind: ipmi\n    arch: x86_64\n    options:\n" // options on line 9
	for _, tc := range []struct {
		opts, want string
	}{
		{"      address: 10.0.0.5\n      prot: 623\n", `hw.yaml:11:7: unknown key "prot" in options of host "bmc" (did you mean "port"? known: address, port, user, password_env, cipher, timeouts)`},
		{"      address: 10.0.0.5\n      port: \"623\"\n", `hw.yaml:11:13: port in options of host "bmc" must be an integer, got string "623"`},
		{"      address: [10.0.0.5]\n", `hw.yaml:10:16: address in options of host "bmc" must be a string, got a list`},
		{"      timeouts:\n        connect: 5\n", `hw.yaml:11:18: connect in timeouts of options of host "bmc": duration "5" needs a unit`},
		{"      timeouts: {konnect: 5s}\n", `hw.yaml:10:18: unknown key "konnect" in timeouts of options of host "bmc"`},
	} {
		m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(src+tc.opts), "")
		if err != nil {
			t.Fatalf("%q: %v", tc.opts, err)
		}
		var o ipmiOptions
		err = m.Hosts[0].DecodeOptions(&o)
		var me *Error
		if !errors.As(err, &me) {
			t.Fatalf("%q: got %v (%T)", tc.opts, err, err)
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got  %s\nwant %s", err, tc.want)
		}
	}

	// Aliases into the rest of the file resolve; merge keys work.
	full := okImage + "hosts:\n  - name: bmc\n    kind: ipmi\n    arch: x86_64\n    options: &bmc\n      address: 10.0.0.5\n      port: 623\n      user: admin\n      password_env: BMC_PASSWORD\n" +
		"  - name: bmc2\n    kind: ipmi\n    arch: x86_64\n    options:\n      <<: *bmc\n      address: 10.0.0.6\n"
	m2, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(full), "")
	if err != nil {
		t.Fatal(err)
	}
	var o2 ipmiOptions
	if err := m2.Hosts[1].DecodeOptions(&o2); err != nil {
		t.Fatal(err)
	}
	if o2.Address != "10.0.0.6" || o2.Port != 623 || o2.User != "admin" || o2.PasswordEnv != "BMC_PASSWORD" {
		t.Errorf("merged options %+v", o2)
	}

	// Not a pointer to a struct.
	if err := m2.Hosts[0].DecodeOptions(o2); err == nil {
		t.Error("non-pointer accepted")
	}

	// A host built in code.
	h := Host{Name: "code", Kind: "ipmi", Options: map[string]any{"address": "h", "port": "x"}}
	err = h.DecodeOptions(&o2)
	if err == nil || !strings.Contains(err.Error(), `port in options of host "code" must be an integer, got string "x"`) {
		t.Errorf("code-built host: %v", err)
	}
}

func TestMergeKeys(t *testing.T) {
	src := okImage + "hosts:\n  - &x86\n    name: q35\n    kind: qemu\n    arch: x86_64\n    devices: &devs [nvme, e1000]\n" +
		"  - <<: *x86\n    name: q35-bios\n    firmware: bios\n  - name: pc\n    kind: qemu\n    arch: x86_64\n    devices: *devs\n"
	m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	h := m.Hosts[1]
	if h.Name != "q35-bios" || h.Kind != "qemu" || h.Firmware != "bios" || !slices.Equal(h.Devices, []string{"nvme", "e1000"}) {
		t.Errorf("merged host %+v", h)
	}
	if !slices.Equal(m.Hosts[2].Devices, []string{"nvme", "e1000"}) {
		t.Errorf("aliased devices %v", m.Hosts[2].Devices)
	}
	// The second host's own name overrides the merged one and is the duplicate.
	bad := okImage + "hosts:\n  - &x86\n    name: q35\n    kind: qemu\n    arch: x86_64\n  - <<: *x86\n    name: q35\n"
	_, err = LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(bad), "")
	if err == nil || !strings.HasPrefix(err.Error(), `hw.yaml:11:11: duplicate host name "q35" (first defined at 7:11)`) {
		t.Errorf("got %v", err)
	}
}

func TestDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"30s": 30 * time.Second, "1m30s": 90 * time.Second, "500ms": 500 * time.Millisecond} {
		d, err := ParseDuration(s)
		if err != nil || d.Duration != want {
			t.Errorf("%s: %v %v", s, d, err)
		}
	}
	for _, s := range []string{"", "30", "-1", "abc", "30 s"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	b, err := Duration{90 * time.Second}.MarshalText()
	if err != nil || string(b) != "1m30s" {
		t.Errorf("MarshalText %s %v", b, err)
	}
	var d Duration
	if err := d.UnmarshalText([]byte("2m")); err != nil || d.Duration != 2*time.Minute {
		t.Errorf("UnmarshalText %v %v", d, err)
	}
}

func TestResolvePath(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "matrix", "schema.go")); err != nil {
		t.Errorf("module root %s has no matrix/schema.go", root)
	}
	got, err := ResolvePath("hw.yaml")
	if err != nil || got != filepath.Join(root, "hw.yaml") {
		t.Errorf("relative: %q %v", got, err)
	}
	abs := filepath.Join(t.TempDir(), "x", "..", "m.yaml")
	if got, err := ResolvePath(abs); err != nil || got != filepath.Clean(abs) {
		t.Errorf("absolute: %q %v", got, err)
	}
	if _, err := ResolvePath(""); err == nil {
		t.Error("empty accepted")
	}
	// Outside the module there is no root.
	t.Chdir(t.TempDir())
	if _, err := ResolvePath("hw.yaml"); err == nil {
		t.Error("resolved outside the module")
	}
}

func TestModulePathOf(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"module github.com/redox-hwtest/redox-hwtest\n\ngo 1.26\n":      ModulePath,
		"// comment\nmodule \"github.com/redox-hwtest/redox-hwtest\"\n": ModulePath,
		"module example.com/other // trailing\n":                        "example.com/other",
		"go 1.26\n":                                                     "",
	} {
		p := filepath.Join(dir, "go.mod")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := modulePathOf(p); got != want {
			t.Errorf("%q: got %q want %q", content, got, want)
		}
	}
}

func TestExampleRedox(t *testing.T) {
	m, err := LoadOptions{SkipFileChecks: true}.Load("examples/redox.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"desktop@q35-uefi/boot", "desktop@q35-bios/boot",
		"server@q35-uefi/boot", "server@q35-bios/boot",
		"server-arm64@virt-uefi/boot",
		"desktop-i586@pc-i586/boot", // i586 images run on the i586 host only
		"demo-0.9.0@q35-uefi/boot", "demo-0.9.0@q35-bios/boot",
	}
	if got := ids(m.Jobs(Filter{Labels: []string{"suite:boot"}})); !slices.Equal(got, want) {
		t.Errorf("boot jobs %v, want %v", got, want)
	}
	// aarch64 has an e1000 NIC as mk/qemu.mk gives it one, so it gets the network suite.
	if got := ids(m.Jobs(Filter{Labels: []string{"suite:network", "arch:aarch64"}})); !slices.Equal(got, []string{"server-arm64@virt-uefi/network"}) {
		t.Errorf("network jobs on aarch64: %v", got)
	}
	for _, img := range m.Images {
		if !strings.HasPrefix(img.URL, "https://static.redox-os.org/") {
			t.Errorf("image %s: url %q", img.Name, img.URL)
		}
	}
	for _, h := range m.Hosts {
		for _, x := range h.XFail {
			if x.Reference == "" {
				t.Errorf("host %s: xfail without reference", h.Name)
			}
		}
	}
}

// TestExampleRealMachines uncomments the real-machine hosts of examples/redox.yaml (the
// lines between "# >>>" and "# <<<") and checks that they load and that their options
// decode into option structs like the ones the serial and ipmi host kinds will have.
func TestExampleRealMachines(t *testing.T) {
	data, err := os.ReadFile("examples/redox.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	blocks := 0
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "# >>>":
			in = true
			blocks++
			continue
		case trimmed == "# <<<":
			in = false
			continue
		case in:
			i := strings.Index(line, "# ")
			if i < 0 || strings.TrimSpace(line[:i]) != "" {
				t.Fatalf("line in a >>> block is not commented: %q", line)
			}
			line = line[:i] + line[i+2:]
		}
		out = append(out, line)
	}
	if blocks != 2 || in {
		t.Fatalf("%d blocks, unterminated %v", blocks, in)
	}
	m, err := LoadOptions{SkipFileChecks: true}.Parse("redox.yaml", []byte(strings.Join(out, "\n")), "examples")
	if err != nil {
		t.Fatal(err)
	}
	type serialOptions struct {
		Address  string `yaml:"address"`
		Port     int    `yaml:"port"`
		Protocol string `yaml:"protocol"`
		Baud     int    `yaml:"baud"`
	}
	type ipmiOpts struct {
		Address     string `yaml:"address"`
		Port        int    `yaml:"port"`
		User        string `yaml:"user"`
		PasswordEnv string `yaml:"password_env"`
	}
	var kinds []string
	for i := range m.Hosts {
		h := &m.Hosts[i]
		switch h.Kind {
		case "serial":
			var o serialOptions
			if err := h.DecodeOptions(&o); err != nil || o.Port != 3001 || o.Baud != 115200 {
				t.Errorf("serial options %+v %v", o, err)
			}
		case "ipmi":
			var o ipmiOpts
			if err := h.DecodeOptions(&o); err != nil || o.Port != 623 || o.PasswordEnv == "" {
				t.Errorf("ipmi options %+v %v", o, err)
			}
		}
		kinds = append(kinds, h.Kind)
	}
	if !slices.Contains(kinds, "serial") || !slices.Contains(kinds, "ipmi") {
		t.Errorf("kinds %v", kinds)
	}
	var real []string
	for _, j := range m.Jobs(Filter{Labels: []string{"real-hw", "suite:boot"}}) {
		real = append(real, j.ID())
	}
	// The x86_64 images fit both machines.
	if want := []string{"desktop@x220/boot", "desktop@r630/boot", "server@x220/boot", "server@r630/boot", "demo-0.9.0@x220/boot", "demo-0.9.0@r630/boot"}; !slices.Equal(real, want) {
		t.Errorf("real-hardware jobs %v, want %v", real, want)
	}
}

// TestAliasBomb: nested aliases that would expand to 10^10 values stop at the budget.
func TestAliasBomb(t *testing.T) {
	src := ok + "    options:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, c := range "bcdefghijk" {
		refs := strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", ")
		src += "      " + string(c) + ": &" + string(c) + " [" + refs + "]\n"
		prev = string(c)
	}
	start := time.Now()
	_, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(src), "")
	if err == nil || !strings.HasPrefix(err.Error(), "hw.yaml:") || !strings.Contains(err.Error(), "document too large") {
		t.Errorf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestEmptyKeyAndMergeOverride(t *testing.T) {
	src := ok + "    options:\n      \"\": empty\n      base: &b {x: 1, y: 2}\n      m:\n        <<: *b\n        y: 3\n"
	m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	opts := m.Hosts[0].Options
	if opts[""] != "empty" {
		t.Errorf("options %v", opts)
	}
	// The explicit y overrides the merged one; the merged x stays.
	var got struct {
		M map[string]int `yaml:"m"`
	}
	err = m.Hosts[0].DecodeOptions(&got)
	if err == nil || !strings.HasPrefix(err.Error(), `hw.yaml:10:7: unknown key "" in options of host "q35"`) {
		t.Errorf("got %v", err)
	}
	var all struct {
		Empty string         `yaml:"e"`
		M     map[string]int `yaml:"m"`
	}
	delete(m.Hosts[0].Options, "")
	delete(m.Hosts[0].Options, "base")
	m.Hosts[0].src = nil // decode the map as if built in code
	if err := m.Hosts[0].DecodeOptions(&all); err != nil {
		t.Fatal(err)
	}
	if all.M["x"] != 1 || all.M["y"] != 3 || len(all.M) != 2 {
		t.Errorf("merged %v", all.M)
	}
}

// TestConcurrentUse backs the package doc's claim (run with -race).
func TestConcurrentUse(t *testing.T) {
	m := loadGood(t)
	done := make(chan error)
	for range 8 {
		go func() {
			var o replayOptions
			for _, j := range m.Jobs(Filter{Labels: []string{"kind:replay"}}) {
				if err := j.Host.DecodeOptions(&o); err != nil {
					done <- err
					return
				}
				_ = j.Labels()
				_ = j.XFail("drivers/hda")
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
