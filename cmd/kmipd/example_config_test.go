package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// configKeys lists the dotted TOML keys of Config ("server.port"), maps of
// tables with NAME standing for the map key.
func configKeys(prefix string, ty reflect.Type) []string {
	var keys []string
	for i := 0; i < ty.NumField(); i++ {
		f := ty.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		ft := f.Type
		if ft.Kind() == reflect.Ptr {
			ft = ft.Elem()
		}
		switch {
		case f.Anonymous && tag == "":
			keys = append(keys, configKeys(prefix, ft)...)
		case tag == "" || tag == "-":
		case ft.Kind() == reflect.Struct:
			keys = append(keys, configKeys(prefix+tag+".", ft)...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, configKeys(prefix+tag+".NAME.", ft.Elem())...)
		default:
			keys = append(keys, prefix+tag)
		}
	}
	return keys
}

// TestExampleConfigHasEveryKey: examples/kmipd.toml parses as kmipd reads
// it (unknown keys are errors) and shows every configuration key, set or
// commented out, in its table.
func TestExampleConfigHasEveryKey(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "kmipd.toml")
	cfg := defaultConfig()
	if err := decodeFile(path, &cfg); err != nil {
		t.Fatalf("examples/kmipd.toml: %v", err)
	}
	if err := cfg.normalize(); err != nil {
		t.Fatalf("examples/kmipd.toml: %v", err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The keys of each table, commented out or not, by table name.
	tables := map[string]map[string]bool{}
	header := regexp.MustCompile(`^#?\s*\[([a-z0-9_.]+)\]`)
	key := regexp.MustCompile(`^#?\s*([a-z0-9_]+)\s*=`)
	table := ""
	for _, line := range strings.Split(string(text), "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			table = m[1]
			if strings.HasPrefix(table, "auth.slugs.") {
				table = "auth.slugs.NAME"
			}
			continue
		}
		if m := key.FindStringSubmatch(line); m != nil {
			if tables[table] == nil {
				tables[table] = map[string]bool{}
			}
			tables[table][m[1]] = true
		}
	}
	for _, k := range configKeys("", reflect.TypeOf(Config{})) {
		i := strings.LastIndex(k, ".")
		if !tables[k[:i]][k[i+1:]] {
			t.Errorf("examples/kmipd.toml does not show %s", k)
		}
	}
}
