package matrix

import (
	"path"
	"reflect"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// HasDevice reports whether the host lists device name.
func (h *Host) HasDevice(name string) bool { return slices.Contains(h.Devices, name) }

// HasFeature reports whether the host lists feature name.
func (h *Host) HasFeature(name string) bool { return slices.Contains(h.Features, name) }

// Virtual reports whether the host is a virtual machine the harness starts itself, on the
// controller's own cores and memory (VirtualKinds: qemu, cloud-hypervisor). This is the one
// answer to "is this a VM?" (the scheduler's VM slots, bisection's device method); a
// replay is not a VM: it plays a transcript and uses no VM's cores.
func (h *Host) Virtual() bool { return isVirtual(h.Kind) }

// MachineKind reports whether results on a host of kind describe a real machine: every
// kind but the virtual ones and a replayed transcript. Only such results become
// HARDWARE.md rows (reports/hardwaremd).
func MachineKind(kind string) bool { return !isVirtual(kind) && kind != ReplayKind }

// ReplayKind is the host kind that plays a recorded transcript (hosts/replay).
const ReplayKind = "replay"

// XFailFor is the host's expected failure for check on image, or nil. An entry matches
// when its check equals check or matches it as a path.Match pattern ("drivers/*") and it
// names no image or this one; an entry naming the image wins over one naming none, and
// otherwise the first in the file wins.
func (h *Host) XFailFor(check, image string) *XFail {
	var generic *XFail
	for i := range h.XFail {
		x := &h.XFail[i]
		if x.Check != check {
			if ok, err := path.Match(x.Check, check); err != nil || !ok {
				continue
			}
		}
		switch x.Image {
		case image:
			if image != "" {
				return x
			}
			fallthrough
		case "":
			if generic == nil {
				generic = x
			}
		}
	}
	return generic
}

// Errorf makes an error about this host at key, a path inside the host: "machine",
// "devices[1]", "options.port", or "" for the host itself. A key the file does not have
// points at the nearest part it has (a missing option: the options mapping, else the
// host). For the host kinds' own checks after loading.
func (h *Host) Errorf(key, format string, args ...any) *Error {
	return h.src.errorf(childPath(h.path, key), false, format, args...)
}

// Errorf makes an error about this image at key, as Host.Errorf does.
func (img *Image) Errorf(key, format string, args ...any) *Error {
	return img.src.errorf(childPath(img.path, key), false, format, args...)
}

// Errorf makes an error at path in the matrix file ("hosts[2].memory").
func (m *Matrix) Errorf(path, format string, args ...any) *Error {
	return m.src.errorf(path, false, format, args...)
}

// DecodeOptions decodes the host's kind-specific options into into, a pointer to a
// struct whose fields carry yaml tags, as strictly as the rest of the matrix: an unknown
// key, a wrong type or a bad duration is a *Error at its place in the matrix file
// ("unknown key \"prot\" in options of host \"bmc\" (known: address, port, ...)").
// Fields the options do not mention keep the values into already has, so set defaults
// before calling. A host built in code (not loaded) has its Options checked the same
// way, with positions in a YAML rendering of them.
func (h *Host) DecodeOptions(into any) error {
	rv := reflect.ValueOf(into)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return h.Errorf("options", "internal error: DecodeOptions needs a pointer to a struct, got %T", into)
	}
	ctx := named("host", h.Name, h.path)
	if ctx == "" {
		ctx = "host"
	}
	p := childPath(h.path, "options")
	var node, root ast.Node
	var src *source
	if h.src != nil {
		if pl, ok := h.src.nodes[p]; ok {
			node, root = pl.node, h.src.root
			src = &source{file: h.src.file, root: root, nodes: map[string]*place{}}
		}
	}
	if node == nil && len(h.Options) > 0 {
		b, err := yaml.Marshal(h.Options)
		if err != nil {
			return &Error{File: "options of " + ctx, Msg: err.Error()}
		}
		f, err := parser.ParseBytes(b, 0)
		if err != nil {
			return fromYAML("options of "+ctx, err, Pos{})
		}
		if len(f.Docs) > 0 && f.Docs[0] != nil {
			node, root = f.Docs[0].Body, f.Docs[0].Body
		}
		src = &source{file: "options of " + ctx, root: root, nodes: map[string]*place{}}
		p = ""
	}
	if node == nil {
		return nil
	}
	w := newWalker(src, root)
	at := w.posOr(node, Pos{})
	if e := w.walk(rv.Elem().Type(), node, p, "options", ctx, at, 0); e != nil {
		return e
	}
	// Checked; goccy decodes what it decoded for the matrix (aliases already resolved).
	b, err := yaml.Marshal(h.Options)
	if err != nil {
		return w.fail(at, "options of %s: %v", ctx, err)
	}
	if err := yaml.UnmarshalWithOptions(b, into, yaml.Strict()); err != nil {
		e := fromYAML(src.file, err, at)
		e.Line, e.Col = at.Line, at.Col // positions in the rendering mean nothing here
		e.Msg = "options of " + ctx + ": " + e.Msg
		return e
	}
	return nil
}
