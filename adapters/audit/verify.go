package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Problem is the first line of an audit file set that Verify rejects.
type Problem struct {
	File   string
	Line   int
	Reason string
}

func (p *Problem) Error() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Reason) }

// Verify checks files, in order, as one chain: every line must be a record
// whose hash (or MAC under key) matches it, and name the hash of the
// record before it as prev (the first record's prev is not checked: its
// predecessor may be in an older file). It returns the number of records,
// and a *Problem naming the first bad line. A removed last record cannot be
// told from a file that ended there.
func Verify(files []string, key []byte) (int, error) {
	v := &verifier{key: key, first: true}
	for _, name := range files {
		if err := v.file(name); err != nil {
			return v.n, err
		}
	}
	return v.n, nil
}

type verifier struct {
	key   []byte
	prev  string
	first bool
	n     int
}

func (v *verifier) file(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for lineNo := 1; ; lineNo++ {
		l, err := r.ReadBytes('\n')
		if len(l) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		bad := func(reason string) error { return &Problem{File: name, Line: lineNo, Reason: reason} }
		if errors.Is(err, io.EOF) {
			return bad("the last line is incomplete (no newline): a torn write")
		}
		if err != nil {
			return err
		}
		if reason := v.line(l[:len(l)-1]); reason != "" {
			return bad(reason)
		}
	}
}

// line checks one record and returns what is wrong with it, "" if nothing.
func (v *verifier) line(l []byte) string {
	body, sum, mac, ok := splitRecord(l)
	if !ok {
		return "not an audit record: it does not end with its hash"
	}
	if mac && v.key == nil {
		return "the record is chained with an HMAC: verifying needs the key"
	}
	if !mac && v.key != nil {
		return "the record has a plain hash where an HMAC was expected"
	}
	var rec struct {
		Prev *string `json:"prev"`
	}
	if json.Unmarshal(body, &rec) != nil || rec.Prev == nil {
		return "not an audit record: not a JSON object with prev"
	}
	if !hmac.Equal([]byte(digest(v.key, body)), []byte(sum)) {
		return "the record does not match its hash: it was changed"
	}
	if !v.first && *rec.Prev != v.prev {
		return "the chain is broken: prev is not the hash of the record before (a record was removed, inserted or moved, or the chain restarted)"
	}
	v.prev, v.first = sum, false
	v.n++
	return ""
}

const sumLen = 64 // hex SHA-256

// splitRecord splits a line (without its newline) into the JSON object its
// digest was computed over and the digest; mac tells an HMAC from a hash.
func splitRecord(l []byte) (body []byte, sum string, mac, ok bool) {
	for _, field := range []string{"hash", "mac"} {
		prefix := `,"` + field + `":"`
		n := len(prefix) + sumLen + len(`"}`)
		if len(l) < n+1 || !bytes.HasSuffix(l, []byte(`"}`)) || string(l[len(l)-n:len(l)-n+len(prefix)]) != prefix {
			continue
		}
		sum := string(l[len(l)-sumLen-2 : len(l)-2])
		if !isHex(sum) {
			return nil, "", false, false
		}
		body := append(bytes.Clone(l[:len(l)-n]), '}')
		return body, sum, field == "mac", true
	}
	return nil, "", false, false
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// maxTail bounds how far back lastRecord reads for the last line.
const maxTail = 64 << 20

// lastRecord returns the last complete line of the file at path (nil if
// there is none), whether a torn line (no newline) follows it, and the
// file's size.
func lastRecord(path string) (last []byte, torn bool, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, 0, err
	}
	size = fi.Size()
	var tail []byte
	for off := size; off > 0; {
		n := min(off, 64<<10)
		off -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil {
			return nil, false, 0, err
		}
		tail = append(buf, tail...)
		torn = tail[len(tail)-1] != '\n'
		end := bytes.LastIndexByte(tail, '\n')
		if end < 0 {
			continue
		}
		start := bytes.LastIndexByte(tail[:end], '\n') + 1
		if start > 0 || off == 0 {
			return tail[start:end], torn, size, nil
		}
		if len(tail) > maxTail {
			return nil, false, 0, fmt.Errorf("the last line of %s is over %d bytes", path, maxTail)
		}
	}
	return nil, size > 0, size, nil
}
