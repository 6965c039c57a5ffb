package cloudhypervisor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// The client is checked against upstream's OpenAPI description, read from
// <module root>/../shared/cloud-hypervisor/openapi.yaml (a data file on the team's machines,
// never copied into the repository). The tests skip with that reason when it is absent.

// openAPI is the parsed description with a small schema checker: enough of OpenAPI 3.0's
// schema objects for what this API uses ($ref, type, required, properties,
// additionalProperties, items, enum, minimum, maximum, integer formats).
type openAPI struct {
	doc  map[string]any
	base string // the path of servers[0].url: "/api/v1"
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	dir := fixtures.SharedDir(t, "cloud-hypervisor")
	path := filepath.Join(dir, "openapi.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		fixtures.MissingShared(t, "../shared/cloud-hypervisor/openapi.yaml is not readable on this machine (%v); skipping the OpenAPI checks", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	o := &openAPI{doc: doc}
	servers, _ := doc["servers"].([]any)
	if len(servers) == 0 {
		t.Fatal("openapi.yaml: no servers")
	}
	u, err := url.Parse(str(obj(servers[0])["url"]))
	if err != nil {
		t.Fatal(err)
	}
	o.base = strings.TrimSuffix(u.Path, "/")
	return o
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func str(v any) string         { s, _ := v.(string); return s }

// operation returns the description of method on path ("/vm.pause"), or an error saying
// what is missing.
func (o *openAPI) operation(method, path string) (map[string]any, error) {
	p := obj(obj(o.doc["paths"])[path])
	if p == nil {
		return nil, fmt.Errorf("path %s is not in the description", path)
	}
	op := obj(p[strings.ToLower(method)])
	if op == nil {
		var have []string
		for k := range p {
			have = append(have, strings.ToUpper(k))
		}
		sort.Strings(have)
		return nil, fmt.Errorf("%s %s is not allowed (the description has %s)", method, path, strings.Join(have, ", "))
	}
	return op, nil
}

// requestSchema is the JSON schema of an operation's request body, the $ref name, and
// whether the body is required; nil when the operation takes no body.
func (o *openAPI) requestSchema(op map[string]any) (schema map[string]any, ref string, required bool) {
	rb := obj(op["requestBody"])
	if rb == nil {
		return nil, "", false
	}
	s := obj(obj(obj(rb["content"])["application/json"])["schema"])
	ref = strings.TrimPrefix(str(s["$ref"]), "#/components/schemas/")
	required, _ = rb["required"].(bool)
	return s, ref, required
}

func (o *openAPI) responseSchema(op map[string]any, status string) map[string]any {
	return obj(obj(obj(obj(obj(op["responses"])[status])["content"])["application/json"])["schema"])
}

func (o *openAPI) resolve(ref string) (map[string]any, error) {
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok {
		return nil, fmt.Errorf("unsupported $ref %q", ref)
	}
	s := obj(obj(obj(o.doc["components"])["schemas"])[name])
	if s == nil {
		return nil, fmt.Errorf("$ref %q: no such schema", ref)
	}
	return s, nil
}

// validateJSON checks a JSON document against a schema and returns every violation.
func (o *openAPI) validateJSON(data []byte, schema map[string]any) []string {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var errs []string
	o.check(v, schema, "$", &errs, 0)
	return errs
}

var intRanges = map[string][2]float64{
	"int8": {math.MinInt8, math.MaxInt8}, "int16": {math.MinInt16, math.MaxInt16},
	"int32": {math.MinInt32, math.MaxInt32}, "int64": {math.MinInt64, math.MaxInt64},
	"uint8": {0, math.MaxUint8}, "uint16": {0, math.MaxUint16}, "uint32": {0, math.MaxUint32},
}

func (o *openAPI) check(v any, s map[string]any, at string, errs *[]string, depth int) {
	fail := func(format string, args ...any) { *errs = append(*errs, at+": "+fmt.Sprintf(format, args...)) }
	if depth > 32 {
		fail("schema nesting too deep")
		return
	}
	if ref := str(s["$ref"]); ref != "" {
		r, err := o.resolve(ref)
		if err != nil {
			fail("%v", err)
			return
		}
		o.check(v, r, at, errs, depth+1)
		return
	}
	if v == nil {
		if n, _ := s["nullable"].(bool); !n {
			fail("null is not allowed")
		}
		return
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			fail("%v is not one of %v", v, enum)
		}
	}
	typ := str(s["type"])
	if typ == "" && s["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want an object, got %T", v)
			return
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[str(r)]; !ok {
				fail("required property %q is missing", str(r))
			}
		}
		props := obj(s["properties"])
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps := obj(props[k]); ps != nil {
				o.check(m[k], ps, at+"."+k, errs, depth+1)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case map[string]any:
				o.check(m[k], ap, at+"."+k, errs, depth+1)
			case bool:
				if !ap {
					fail("property %q is not allowed", k)
				}
			default:
				// Not forbidden by OpenAPI, but a property the description does not know is
				// a typo in a hand-written client: refuse it.
				fail("property %q is not in the schema", k)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want an array, got %T", v)
			return
		}
		if items := obj(s["items"]); items != nil {
			for i, e := range a {
				o.check(e, items, fmt.Sprintf("%s[%d]", at, i), errs, depth+1)
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			fail("want a string, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want a boolean, got %T", v)
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			fail("want type %s, got %T", typ, v)
			return
		}
		f, err := n.Float64()
		if err != nil {
			fail("bad number %s", n)
			return
		}
		if typ == "integer" {
			if _, err := n.Int64(); err != nil {
				fail("want an integer, got %s", n)
				return
			}
			if r, ok := intRanges[str(s["format"])]; ok && (f < r[0] || f > r[1]) {
				fail("%s is out of range for %s", n, str(s["format"]))
			}
		}
		if min, ok := s["minimum"]; ok && f < toFloat(min) {
			fail("%s is below the minimum %v", n, min)
		}
		if max, ok := s["maximum"]; ok && f > toFloat(max) {
			fail("%s is above the maximum %v", n, max)
		}
	case "":
		// no type: anything
	default:
		fail("unsupported schema type %q", typ)
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// checkRequest checks one request as it went over the wire: path under the server's base,
// the path and method in the description, the body present exactly when the operation has
// one, with the JSON content type, and valid against its schema.
func (o *openAPI) checkRequest(r recordedRequest) []string {
	name := r.Method + " " + r.Path
	rel, ok := strings.CutPrefix(r.Path, o.base)
	if !ok || !strings.HasPrefix(rel, "/") {
		return []string{fmt.Sprintf("%s: not under the server's base path %s", name, o.base)}
	}
	op, err := o.operation(r.Method, rel)
	if err != nil {
		return []string{name + ": " + err.Error()}
	}
	schema, _, required := o.requestSchema(op)
	var errs []string
	switch {
	case schema == nil && len(r.Body) > 0:
		errs = append(errs, fmt.Sprintf("%s: sends a body %q but the operation takes none", name, r.Body))
	case schema != nil && len(r.Body) == 0 && required:
		errs = append(errs, fmt.Sprintf("%s: the request body is required", name))
	case schema != nil && len(r.Body) > 0:
		if !strings.HasPrefix(r.ContentType, "application/json") {
			errs = append(errs, fmt.Sprintf("%s: content type %q, want application/json", name, r.ContentType))
		}
		for _, e := range o.validateJSON(r.Body, schema) {
			errs = append(errs, fmt.Sprintf("%s: body %s", name, e))
		}
	}
	return errs
}

// Every endpoint of the client exists in the description with its method, and takes the
// body schema the client thinks it does.
func TestEndpointsAreInOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	if APIBase != o.base+"/" {
		t.Errorf("APIBase %q, the description's server path is %q", APIBase, o.base)
	}
	for _, ep := range endpoints {
		op, err := o.operation(ep.Method, "/"+ep.Path)
		if err != nil {
			t.Errorf("%s: %v", ep.Path, err)
			continue
		}
		schema, ref, required := o.requestSchema(op)
		switch {
		case ep.Body == "" && schema != nil:
			t.Errorf("%s %s: the description wants a %s body, the client sends none", ep.Method, ep.Path, ref)
		case ep.Body != "" && (ref != ep.Body || !required):
			t.Errorf("%s %s: the client sends %s, the description wants %q (required %v)", ep.Method, ep.Path, ep.Body, ref, required)
		}
	}
}

// Every request the client sends, as the fake VMM received it on the socket, conforms to
// the description; and every endpoint was exercised.
func TestRequestsMatchOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	f, c := newFake(t)
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The VM configurations the host really sends: the plans for the example host and the
	// other shapes (kernel boot, socket serial, tap, huge pages, direct I/O).
	var configs []*VMConfig
	h := exampleHostWith(t, "    options:\n      firmware: /fw/CLOUDHV.fd\n      tap: tap0\n      hugepages: true\n      direct_io: true\n      serial: socket\n")
	p, err := BuildPlan(h, matrix.Image{Name: "r", Arch: "x86_64", Path: "/img/redox.img"}, mustOptions(t, h), "/j", "", env())
	must(err)
	configs = append(configs, p.Config)
	p, err = BuildPlan(matrix.Host{Name: "k", Kind: Kind, Arch: "x86_64", SMP: 4, Devices: []string{"virtio-blk"}},
		matrix.Image{Name: "k", Arch: "x86_64", Kernel: "/k/vmlinuz", Initrd: "/k/initrd", Cmdline: "console=ttyS0"},
		Options{}, "/j", "quiet", env())
	must(err)
	configs = append(configs, p.Config)

	_, _ = c.Info(ctx) // 404 before create, still a valid request
	for i, cfg := range configs {
		must(c.Create(ctx, cfg))
		must(c.Boot(ctx))
		_, err := c.Ping(ctx)
		must(err)
		_, err = c.Info(ctx)
		must(err)
		must(c.Pause(ctx))
		must(c.Snapshot(ctx, "file://"+t.TempDir()))
		must(c.Resume(ctx))
		must(c.PowerButton(ctx))
		must(c.Shutdown(ctx))
		if i < len(configs)-1 {
			f.mu.Lock()
			f.state, f.config = "", nil // a fresh VMM for the next configuration
			f.mu.Unlock()
		}
	}
	must(c.ShutdownVMM(ctx))

	seen := map[string]bool{}
	for _, r := range f.Requests() {
		seen[r.Method+" "+strings.TrimPrefix(r.Path, APIBase)] = true
		for _, e := range o.checkRequest(r) {
			t.Error(e)
		}
	}
	for _, ep := range endpoints {
		if !seen[ep.Method+" "+ep.Path] {
			t.Errorf("%s %s was never sent, so never checked", ep.Method, ep.Path)
		}
	}
}

// The fake VMM's answers conform to the description too (it is a model of the VMM, and a
// model that drifted from the description would make the client tests meaningless).
func TestFakeAnswersMatchOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	f, c := newFake(t)
	ctx := t.Context()
	if err := c.Create(ctx, testConfig()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path string }{{"/vmm.ping"}, {"/vm.info"}} {
		op, err := o.operation("GET", tc.path)
		if err != nil {
			t.Fatal(err)
		}
		schema := o.responseSchema(op, "200")
		if schema == nil {
			t.Fatalf("%s: no 200 schema", tc.path)
		}
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest("GET", APIBase+strings.TrimPrefix(tc.path, "/"), nil))
		if rec.Code != 200 {
			t.Fatalf("fake %s: %d %s", tc.path, rec.Code, rec.Body)
		}
		for _, e := range o.validateJSON(rec.Body.Bytes(), schema) {
			t.Errorf("fake %s answer: %s", tc.path, e)
		}
	}
}

// The checker itself finds what it should (a checker that accepts anything would make the
// tests above vacuous).
func TestSchemaCheckerCatchesMistakes(t *testing.T) {
	o := loadOpenAPI(t)
	vmConfig := map[string]any{"$ref": "#/components/schemas/VmConfig"}
	for _, tc := range []struct{ body, want string }{
		{`{}`, `required property "payload"`},
		{`{"payload":{},"cpus":{"boot_vcpus":2}}`, `required property "max_vcpus"`},
		{`{"payload":{},"cpus":{"boot_vcpus":0,"max_vcpus":1}}`, "below the minimum"},
		{`{"payload":{},"memory":{"size":"1G"}}`, "want type integer"},
		{`{"payload":{},"serial":{"mode":"tty"}}`, "not one of"},
		{`{"payload":{},"disks":[{"path":"/d","direkt":true}]}`, `property "direkt" is not in the schema`},
		{`{"payload":{"firmware":7}}`, "want a string"},
		{`{"payload":{},"disks":{"path":"/d"}}`, "want an array"},
		{`{"payload":{},"net":[{"pci_device_id":300}]}`, "out of range for uint8"},
		{`not json`, "not JSON"},
	} {
		errs := o.validateJSON([]byte(tc.body), vmConfig)
		if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s: want an error containing %q, got %q", tc.body, tc.want, errs)
		}
	}
	if errs := o.validateJSON([]byte(`{"payload":{"firmware":"/fw"},"serial":{"mode":"Tty"},"cpus":{"boot_vcpus":1,"max_vcpus":1}}`), vmConfig); len(errs) > 0 {
		t.Errorf("a valid VmConfig was refused: %q", errs)
	}
	for _, r := range []recordedRequest{
		{Method: "PUT", Path: "/api/v1/vm.pauze"},
		{Method: "GET", Path: "/api/v1/vm.pause"},
		{Method: "PUT", Path: "/vm.pause"},
		{Method: "PUT", Path: "/api/v1/vm.pause", Body: []byte(`{}`), ContentType: "application/json"},
		{Method: "PUT", Path: "/api/v1/vm.snapshot"},
		{Method: "PUT", Path: "/api/v1/vm.snapshot", Body: []byte(`{"destination_url":"file:///x"}`), ContentType: "text/plain"},
	} {
		if errs := o.checkRequest(r); len(errs) == 0 {
			t.Errorf("%s %s %q: the checker found nothing wrong", r.Method, r.Path, r.Body)
		}
	}
}

// exampleHostWith loads the redox.yaml example host with its options block replaced by
// extra YAML lines.
func exampleHostWith(t *testing.T, extra string) matrix.Host {
	t.Helper()
	h, _ := loadHost(t, withoutOptions(exampleHost(t))+extra)
	return h
}

func mustOptions(t *testing.T, h matrix.Host) Options {
	t.Helper()
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		t.Fatal(err)
	}
	return o
}
