// Package pxe serves one boot over HTTP for a machine that network-boots with iPXE: an
// iPXE script at /boot.ipxe and the files it names (a kernel and initrd, or a disk image
// for sanboot). The lab's DHCP server (or an iPXE ROM's embedded script) points the machine
// at the script URL; the harness sets the next boot device to PXE over IPMI where it can.
//
// Only the files of the current boot are served, read-only, with range requests (iPXE's
// sanboot reads a disk image block by block). Each request is logged.//
// It lives under hosts/ because serving the boot files is part of powering a real machine
// on (hosts/power provisions through it); hosts may not import the harness.
package pxe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// Config is the pxe block of a host's options.
type Config struct {
	// Listen is the address the HTTP server binds, e.g. "0.0.0.0:8069" (the lab's DHCP
	// configuration names the port) or "127.0.0.1:0" (any free port, for tests).
	Listen string `yaml:"listen"`
	// URL is the base URL the machine reaches the server at, e.g. "http://10.0.0.1:8069";
	// "{port}" is replaced by the bound port. Default: http://<listen address>.
	URL string `yaml:"url"`
	// Script is a file with an iPXE script template (Go text/template) that replaces the
	// built-in one; fields: .Name .Base .Kernel .Initrd .Image .Cmdline (URLs are absolute).
	Script string `yaml:"script"`
}

// Boot is what to serve.
type Boot struct {
	// Name is shown by the script (the image name).
	Name string
	// Kernel and Initrd (optional) are files for a direct kernel boot; Cmdline is its
	// command line. Otherwise Image is a disk image or ISO for sanboot.
	Kernel, Initrd, Cmdline string
	Image                   string
}

// Request is one served request.
type Request struct {
	Time   time.Time
	Path   string
	Status int
	Bytes  int64
	From   string
}

// Server is a running PXE HTTP server.
type Server struct {
	base   string
	script []byte
	files  map[string]string // URL path -> file
	ln     net.Listener
	srv    *http.Server
	log    io.Writer

	mu   sync.Mutex
	reqs []Request
	done chan struct{}
}

// ScriptName is the path of the iPXE script.
const ScriptName = "/boot.ipxe"

const builtinScript = `#!ipxe
echo redox-hwtest: booting {{.Name}} from {{.Base}}
{{- if .Kernel}}
kernel {{.Kernel}}{{if .Cmdline}} {{.Cmdline}}{{end}}
{{- if .Initrd}}
initrd {{.Initrd}}
{{- end}}
boot
{{- else}}
sanboot --no-describe {{.Image}}
{{- end}}
`

// Start serves b according to cfg; log receives one line per request.
func Start(cfg Config, b Boot, log io.Writer) (*Server, error) {
	if log == nil {
		log = io.Discard
	}
	if (b.Kernel == "") == (b.Image == "") {
		return nil, errors.New("pxe: need a kernel (and initrd) or a disk image to serve")
	}
	files := map[string]string{}
	add := func(prefix, file string) (string, error) {
		if file == "" {
			return "", nil
		}
		fi, err := os.Stat(file)
		if err != nil {
			return "", fmt.Errorf("pxe: %w", err)
		}
		if fi.IsDir() {
			return "", fmt.Errorf("pxe: %s is a directory", file)
		}
		p := "/" + prefix + "/" + urlSafe(filepath.Base(file))
		files[p] = file
		return p, nil
	}
	kp, err := add("kernel", b.Kernel)
	if err != nil {
		return nil, err
	}
	ip, err := add("initrd", b.Initrd)
	if err != nil {
		return nil, err
	}
	mp, err := add("image", b.Image)
	if err != nil {
		return nil, err
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("pxe: listen %s: %w", listen, err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	base := cfg.URL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	base = strings.TrimRight(strings.ReplaceAll(base, "{port}", port), "/")
	tmplText := builtinScript
	if cfg.Script != "" {
		t, err := inputfile.ReadFile(cfg.Script, 1<<20, "an iPXE script")
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("pxe script: %w", err)
		}
		tmplText = string(t)
	}
	tmpl, err := template.New("ipxe").Option("missingkey=error").Parse(tmplText)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("pxe script template: %w", err)
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		return base + p
	}
	var script bytes.Buffer
	if err := tmpl.Execute(&script, map[string]string{"Name": b.Name, "Base": base, "Kernel": abs(kp),
		"Initrd": abs(ip), "Image": abs(mp), "Cmdline": b.Cmdline}); err != nil {
		ln.Close()
		return nil, fmt.Errorf("pxe script template: %w", err)
	}
	s := &Server{base: base, script: script.Bytes(), files: files, ln: ln, log: log, done: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	fmt.Fprintf(log, "pxe: serving %s on %s (script %s)\n", b.Name, ln.Addr(), s.ScriptURL())
	return s, nil
}

func urlSafe(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || r == '+' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Base is the base URL the machine uses.
func (s *Server) Base() string { return s.base }

// ScriptURL is the URL of the iPXE script (what DHCP's filename option or an iPXE
// "chain" points at).
func (s *Server) ScriptURL() string { return s.base + ScriptName }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Script is the iPXE script served.
func (s *Server) Script() string { return string(s.script) }

// Requests lists the requests served so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) { c.status = code; c.ResponseWriter.WriteHeader(code) }
func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// ServeHTTP serves the script and the boot files, nothing else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cw := &countingWriter{ResponseWriter: w, status: 200}
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.Error(cw, "read-only", http.StatusMethodNotAllowed)
	case r.URL.Path == ScriptName:
		cw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeContent(cw, r, "boot.ipxe", start, bytes.NewReader(s.script))
	case s.files[r.URL.Path] != "":
		f, err := os.Open(s.files[r.URL.Path])
		if err != nil {
			http.Error(cw, "cannot open", http.StatusInternalServerError)
			break
		}
		fi, _ := f.Stat()
		cw.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(cw, r, "", fi.ModTime(), f)
		f.Close()
	default:
		http.NotFound(cw, r)
	}
	req := Request{Time: start, Path: r.URL.Path, Status: cw.status, Bytes: cw.n, From: r.RemoteAddr}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	fmt.Fprintf(s.log, "pxe: %s %s %d %d bytes in %s from %s\n", r.Method, r.URL.Path, cw.status, cw.n,
		time.Since(start).Round(time.Millisecond), r.RemoteAddr)
}

// Close stops the server (in-flight transfers are cut).
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.done
	return err
}
