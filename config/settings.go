package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Setting is one configurable value, addressable from YAML, environment and
// flags. Settings are read off the Config struct itself: a field with a
// usage tag is a setting, its key is the path of yaml tags, and its type
// says how a flag or variable is parsed. The struct is the one place a
// setting is declared; Default gives its default and Validate checks it.
type Setting struct {
	Key   string // YAML path, dots between levels
	Usage string
	index []int
}

// Flag is the command-line flag name: the key with dots and underscores as
// dashes.
func (s Setting) Flag() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.Key)
}

// Env is the environment variable: BULWARK_ and the key in upper case.
func (s Setting) Env() string {
	return "BULWARK_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(s.Key))
}

var durationType = reflect.TypeFor[time.Duration]()

func (s Setting) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(s.index)
}

// Get renders the setting's value in c as a flag would take it.
func (s Setting) Get(c *Config) string {
	v := s.field(c)
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.String:
		return v.String()
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case v.Kind() == reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case v.Kind() == reflect.Slice:
		return strings.Join(v.Interface().([]string), ",")
	}
	return fmt.Sprint(v.Interface())
}

// Set parses v (a flag or environment value) into the setting in c. Lists
// are comma-separated.
func (s Setting) Set(c *Config, v string) error {
	f := s.field(c)
	t := strings.TrimSpace(v)
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(t)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 15s", v)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(v)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(t)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || f.OverflowInt(n) {
			return fmt.Errorf("%q is not an integer", v)
		}
		f.SetInt(n)
	case f.Kind() == reflect.Float64:
		x, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		f.SetFloat(x)
	case f.Kind() == reflect.Slice:
		var out []string
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		f.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("%s cannot be set from a flag", s.Key)
	}
	return nil
}

// Settings lists every setting in the order of the Config struct.
func Settings() []Setting {
	var out []Setting
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			idx := append(append([]int(nil), index...), i)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, prefix+name+".", idx)
				continue
			}
			if usage, ok := f.Tag.Lookup("usage"); ok {
				out = append(out, Setting{Key: prefix + name, Usage: usage, index: idx})
			}
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
}

// YAMLOnly lists the settings that only a config file can set (lists of
// structs, maps), as key and meaning.
func YAMLOnly() [][2]string {
	var out [][2]string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			if usage, ok := f.Tag.Lookup("yamlonly"); ok {
				out = append(out, [2]string{prefix + name, usage})
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, prefix+name+".")
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}
