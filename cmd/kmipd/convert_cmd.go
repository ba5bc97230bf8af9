package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

func init() {
	subcommands["config"] = subcommand{"config check FILE | config convert server.conf: validate a configuration, or convert PyKMIP's", configCmd}
}

// configCmd runs "kmipd config check FILE" and "kmipd config convert server.conf".
func configCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || (args[0] != "convert" && args[0] != "check") || isHelp(args[1:]) {
		fmt.Fprintf(stderr, "Usage: kmipd config check FILE\n       kmipd config convert server.conf\n\n"+
			"check validates a kmipd configuration as kmipd would before listening: every key,\n"+
			"the files and directories it names, the TLS certificate and key, the crypto engine\n"+
			"(a PKCS#11 module and PIN are tried); it opens no store and binds no port. It prints\n"+
			"\"FILE: OK\" and exits 0, or one line naming the key and exits 78.\n\n"+
			"convert turns a PyKMIP server configuration (INI, with its [server] and\n"+
			"[auth:slugs...] blocks) into kmipd TOML, written to standard output.\n"+
			"Settings kmipd does not know are reported on standard error.\n")
		return helpOrUsage(args)
	}
	if args[0] == "check" {
		return configCheck(args[1], stdout, stderr)
	}
	in, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %v\n", err)
		return exitUsage
	}
	out, warnings, err := convertPyKMIPConfig(in, args[1])
	for _, w := range warnings {
		fmt.Fprintf(stderr, "kmipd: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s: %v\n", args[1], err)
		return exitFailed
	}
	stdout.Write(out)
	return exitOK
}

// iniSection is one [name] block of an INI file, keys in file order.
type iniSection struct {
	name   string
	keys   []string
	values map[string]string
}

// parseINI reads an INI file the way Python's configparser does by default:
// "key = value" or "key: value", keys lower-cased, indented lines continuing
// the previous value, whole-line comments starting with # or ;.
func parseINI(data []byte) ([]*iniSection, error) {
	var secs []*iniSection
	var cur *iniSection
	lastKey := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			if cur == nil || lastKey == "" {
				return nil, fmt.Errorf("line %d: continuation line without a setting", n)
			}
			if v := cur.values[lastKey]; v == "" {
				cur.values[lastKey] = trimmed
			} else {
				cur.values[lastKey] = v + "\n" + trimmed
			}
			continue
		case trimmed[0] == '[':
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("line %d: malformed section header", n)
			}
			cur = &iniSection{name: strings.TrimSpace(trimmed[1 : len(trimmed)-1]), values: map[string]string{}}
			secs = append(secs, cur)
			lastKey = ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: setting before any [section]", n)
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: want key = value", n)
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if _, dup := cur.values[key]; !dup {
			cur.keys = append(cur.keys, key)
		}
		cur.values[key] = strings.TrimSpace(trimmed[i+1:])
		lastKey = key
	}
	return secs, sc.Err()
}

// convertPyKMIPConfig turns a PyKMIP server.conf into kmipd TOML; the result
// is checked by loading it as kmipd would.
func convertPyKMIPConfig(data []byte, source string) ([]byte, []string, error) {
	secs, err := parseINI(data)
	if err != nil {
		return nil, nil, err
	}
	cv := &pykmipConversion{}
	fmt.Fprintf(&cv.b, "# kmipd configuration converted from the PyKMIP configuration %s\n", tomlString(source))
	server, auths := cv.sortSections(secs)
	if server != nil {
		if err := cv.server(server); err != nil {
			return nil, cv.warnings, err
		}
	}
	used := map[string]bool{}
	for _, s := range auths {
		if err := cv.slugs(s, used); err != nil {
			return nil, cv.warnings, err
		}
	}
	out := cv.b.Bytes()
	cfg := defaultConfig()
	md, err := toml.Decode(string(out), &cfg)
	if err == nil {
		cfg.Auth.recordOrder(md)
		err = cfg.normalize()
	}
	if err != nil {
		return nil, cv.warnings, fmt.Errorf("the converted configuration is not valid: %v", err)
	}
	return out, cv.warnings, nil
}

// pykmipConversion is a PyKMIP configuration being written as kmipd TOML,
// with a warning for each setting it skips.
type pykmipConversion struct {
	b        bytes.Buffer
	warnings []string
}

func (cv *pykmipConversion) warn(format string, args ...any) {
	cv.warnings = append(cv.warnings, fmt.Sprintf(format, args...))
}

// sortSections picks the [server] section and the SLUGS sections, in file
// order, and warns about every other section.
func (cv *pykmipConversion) sortSections(secs []*iniSection) (server *iniSection, auths []*iniSection) {
	for _, s := range secs {
		switch {
		case s.name == "server":
			server = s
		case strings.HasPrefix(s.name, "auth:slugs"):
			auths = append(auths, s)
		case strings.HasPrefix(s.name, "auth:"):
			cv.warn("[%s]: authentication plugin not supported (PyKMIP supports only auth:slugs); skipped", s.name)
		default:
			cv.warn("[%s]: not a PyKMIP server section; skipped", s.name)
		}
	}
	return server, auths
}

// server writes the [server] settings kmipd shares with PyKMIP, warning
// about the others; a port or Boolean that does not parse is an error.
func (cv *pykmipConversion) server(server *iniSection) error {
	b := &cv.b
	b.WriteString("\n[server]\n")
	for _, k := range server.keys {
		v := server.values[k]
		switch k {
		case "hostname", "certificate_path", "key_path", "ca_path", "auth_suite", "policy_path", "logging_level", "database_path":
			fmt.Fprintf(b, "%s = %s\n", k, tomlString(v))
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("[server] port: %q is not a number", v)
			}
			fmt.Fprintf(b, "port = %d\n", p)
		case "enable_tls_client_auth":
			on, err := parseBool(v)
			if err != nil {
				return fmt.Errorf("[server] enable_tls_client_auth: %v", err)
			}
			fmt.Fprintf(b, "enable_tls_client_auth = %t\n", on)
		case "tls_cipher_suites":
			var q []string
			for _, cs := range splitList(v) {
				q = append(q, tomlString(cs))
			}
			fmt.Fprintf(b, "tls_cipher_suites = [%s]\n", strings.Join(q, ", "))
		default:
			cv.warn("[server] %s: not a PyKMIP server setting kmipd knows; skipped", k)
		}
	}
	return nil
}

// slugs writes one SLUGS section as an [auth.slugs.<name>] block; a second
// block of a name already in used is an error.
func (cv *pykmipConversion) slugs(s *iniSection, used map[string]bool) error {
	name := "default"
	if rest, ok := strings.CutPrefix(s.name, "auth:slugs:"); ok && rest != "" {
		name = rest
	} else if s.name != "auth:slugs" {
		// "auth:slugsX": PyKMIP treats any name starting with auth:slugs as SLUGS.
		name = strings.TrimPrefix(s.name, "auth:slugs")
	}
	if used[name] {
		return fmt.Errorf("[%s]: a second SLUGS block named %q", s.name, name)
	}
	used[name] = true
	fmt.Fprintf(&cv.b, "\n[auth.slugs.%s]\n", tomlKey(name))
	for _, k := range s.keys {
		v := s.values[k]
		switch k {
		case "enabled":
			// PyKMIP enables a plugin only when the value is exactly "True".
			on := v == "True"
			if p, err := parseBool(v); err == nil && p != on {
				cv.warn("[%s] enabled = %s: PyKMIP only enables a plugin for \"True\"; converted as disabled, as PyKMIP runs it", s.name, v)
			}
			fmt.Fprintf(&cv.b, "enabled = %t\n", on)
		case "url":
			fmt.Fprintf(&cv.b, "url = %s\n", tomlString(v))
		default:
			cv.warn("[%s] %s: not a SLUGS setting; skipped", s.name, k)
		}
	}
	return nil
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// tomlKey quotes a table name part unless it is a bare key.
func tomlKey(s string) string {
	if bareKey.MatchString(s) {
		return s
	}
	return tomlString(s)
}

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
