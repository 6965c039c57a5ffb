package record

import (
	"reflect"
	"sync/atomic"
)

// redaction is applied to every string of a record and of run.json when they are written.
var redaction atomic.Pointer[func(string) string]

// SetRedaction installs the function every string of a record (check messages, excerpts,
// event titles and components, host facts, ...) and of run.json passes through on Write:
// hosts/secrets installs its redactor, so a lab password can never be stored, whichever
// path brought it into the record. Every report (JUnit, tables, HARDWARE.md, the page)
// is made from the stored records.
func SetRedaction(f func(string) string) {
	if f == nil {
		redaction.Store(nil)
		return
	}
	redaction.Store(&f)
}

// redactStrings rewrites, in place, every exported string reachable from v (struct fields,
// slices, map keys and values, pointers) with the installed redaction.
func redactStrings(v any) {
	f := redaction.Load()
	if f == nil {
		return
	}
	mapStrings(reflect.ValueOf(v), *f)
}

func mapStrings(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(f(v.String()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				mapStrings(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			mapStrings(v.Index(i), f)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			mapStrings(v.Elem(), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			mapStrings(e, f)
			nk := k
			if k.Kind() == reflect.String {
				if rk := f(k.String()); rk != k.String() {
					nk = reflect.New(k.Type()).Elem()
					nk.SetString(rk)
					v.SetMapIndex(k, reflect.Value{})
				}
			}
			v.SetMapIndex(nk, e)
		}
	}
}
