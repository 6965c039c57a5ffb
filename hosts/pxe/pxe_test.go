package pxe

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func get(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestKernelBootScriptAndFiles(t *testing.T) {
	dir := t.TempDir()
	k, i := filepath.Join(dir, "vmlinuz-x86_64"), filepath.Join(dir, "initrd x.gz")
	os.WriteFile(k, []byte("KERNEL-BYTES"), 0o644)
	os.WriteFile(i, []byte("INITRD"), 0o644)
	var log bytes.Buffer
	s, err := Start(Config{Listen: "127.0.0.1:0", URL: "http://10.0.2.2:{port}/"}, Boot{Name: "standin", Kernel: k, Initrd: i, Cmdline: "console=ttyS0 fx.hang=nvme"}, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := s.Addr().String()[strings.LastIndex(s.Addr().String(), ":")+1:]
	if s.ScriptURL() != "http://10.0.2.2:"+port+"/boot.ipxe" {
		t.Fatalf("script URL %s", s.ScriptURL())
	}
	local := "http://" + s.Addr().String()
	code, body := get(t, local+"/boot.ipxe")
	want := "#!ipxe\necho redox-hwtest: booting standin from http://10.0.2.2:" + port + "\n" +
		"kernel http://10.0.2.2:" + port + "/kernel/vmlinuz-x86_64 console=ttyS0 fx.hang=nvme\n" +
		"initrd http://10.0.2.2:" + port + "/initrd/initrd_x.gz\nboot\n"
	if code != 200 || body != want {
		t.Fatalf("%d %q\nwant %q", code, body, want)
	}
	if code, body := get(t, local+"/kernel/vmlinuz-x86_64", "Range", "bytes=7-"); code != 206 || body != "BYTES" {
		t.Fatalf("range: %d %q", code, body)
	}
	if code, _ := get(t, local+"/etc/passwd"); code != 404 {
		t.Fatalf("unlisted file: %d", code)
	}
	if code, _ := get(t, local+"/kernel/../initrd/initrd_x.gz"); code == 200 {
		// the mux cleans paths with a redirect; the file itself is still only at its own path
		t.Log("cleaned path redirected")
	}
	res, err := http.Post(local+"/boot.ipxe", "text/plain", strings.NewReader("x"))
	if err != nil || res.StatusCode != 405 {
		t.Fatalf("POST: %v %v", res, err)
	}
	if len(s.Requests()) < 3 || !strings.Contains(log.String(), "GET /kernel/vmlinuz-x86_64 206 5 bytes") {
		t.Fatalf("log: %s", log.String())
	}
}

func TestImageSanbootAndCustomScript(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "redox.iso")
	os.WriteFile(img, []byte("ISO"), 0o644)
	s, err := Start(Config{}, Boot{Name: "redox", Image: img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Script(), "sanboot --no-describe "+s.Base()+"/image/redox.iso\n") {
		t.Fatalf("script %q", s.Script())
	}
	s.Close()
	tmpl := filepath.Join(dir, "my.ipxe")
	os.WriteFile(tmpl, []byte("#!ipxe\nchain {{.Image}} || shell\n"), 0o644)
	s, err = Start(Config{Script: tmpl}, Boot{Name: "redox", Image: img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Script() != "#!ipxe\nchain "+s.Base()+"/image/redox.iso || shell\n" {
		t.Fatalf("custom %q", s.Script())
	}
	if _, err := Start(Config{}, Boot{Name: "x"}, nil); err == nil {
		t.Fatal("nothing to serve accepted")
	}
}
