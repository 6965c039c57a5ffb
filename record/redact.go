package record

import (
	"reflect"

	"github.com/redox-hwtest/redox-hwtest/record/redact"
)

// redactStrings rewrites, in place, every exported string reachable from v (struct fields,
// slices, map keys and values, pointers) with the installed redaction.
//
// The redaction is record/redact's process-wide Redactor, used here directly: the writer
// redacts by construction, whichever packages the program links (hosts/secrets registers
// the lab passwords it loads there). A program that registered no secret pays nothing.
func redactStrings(v any) {
	if !redact.Active() {
		return
	}
	mapStrings(reflect.ValueOf(v), redact.Redact)
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
