package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kmipd/kmipd/ports"
)

func init() {
	subcommands["backup"] = subcommand{"backup -config FILE [-cert C -key K] OUT: a consistent copy of the store while kmipd serves", backupCmd}
	subcommands["restore"] = subcommand{"restore -config FILE [-force] IN: put a backup in place of the store (kmipd stopped)", restoreCmd}
}

// backupFlags parses "-config FILE [flags] PATH" for backup and restore.
func backupFlags(name, usage string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (cfg Config, path string, code int) {
	fs := flag.NewFlagSet("kmipd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "kmipd configuration `file` naming the store")
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kmipd %s\n\n%s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	var rest []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return cfg, "", exitOK
		} else if err != nil {
			return cfg, "", exitUsage
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	if *config == "" || len(rest) != 1 {
		fs.Usage()
		return cfg, "", exitUsage
	}
	var sf serveFlags
	sfs := newServeFlagSet(&sf, io.Discard)
	sf.config = *config
	cfg, err := loadConfig(sfs, &sf)
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return cfg, "", exitConfig
	}
	return cfg, rest[0], -1
}

// backupCmd runs "kmipd backup -config FILE OUT".
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var certFile, keyFile string
	cfg, out, code := backupFlags("backup -config FILE [-cert C -key K] OUT",
		"Writes a consistent copy of the store that FILE names to OUT (created 0600), while kmipd\n"+
			"serves or not. SQLite is copied by this process (VACUUM INTO). A bbolt store that a running\n"+
			"kmipd holds is copied by that kmipd through its admin listener: [admin] allow_remote = true\n"+
			"and backup_clients naming the CN of -cert. The copy is then opened and its objects counted.\n"+
			"With sealing on, the copy holds sealed material only, like the store.",
		args, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&certFile, "cert", "", "client certificate for the admin listener (bbolt while kmipd runs)")
			fs.StringVar(&keyFile, "key", "", "its private key")
		})
	if code >= 0 {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "kmipd: backup: %s\n", oneLine(fmt.Sprintf(format, a...)))
		return code
	}
	if _, err := os.Stat(out); err == nil {
		return fail(exitFailed, "%s exists; a backup never overwrites a file", out)
	}
	if _, err := os.Stat(cfg.Storage.Path); err != nil {
		return fail(exitConfig, "storage.path %q: %v", cfg.Storage.Path, err)
	}
	store, err := storageOpeners[cfg.Storage.Type](cfg.Storage, ports.CreationOpenExisting)
	switch {
	case err == nil:
		err = snapshotAndClose(ctx, store, out)
	case errors.Is(err, ports.ErrUnavailable):
		err = backupOverAdmin(ctx, cfg, certFile, keyFile, out)
	}
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	n, err := countObjects(ctx, cfg.Storage.Type, out)
	if err != nil {
		os.Remove(out)
		return fail(exitFailed, "the copy %s does not open: %v", out, err)
	}
	fmt.Fprintf(stdout, "backup %s: %d objects (%s)\n", out, n, cfg.Storage.Type)
	return exitOK
}

// snapshotAndClose copies an open store to out and closes it.
func snapshotAndClose(ctx context.Context, store ports.Store, out string) error {
	defer store.Close()
	snap, ok := store.(ports.Snapshotter)
	if !ok {
		return fmt.Errorf("this store cannot be backed up online")
	}
	return snap.Snapshot(ctx, out)
}

// backupOverAdmin asks the running kmipd for a snapshot through its admin
// listener, with a client certificate the listener's backup_clients admits.
func backupOverAdmin(ctx context.Context, cfg Config, certFile, keyFile, out string) error {
	a := cfg.Admin
	if a.Address == "" || !a.AllowRemote || len(a.BackupClients) == 0 {
		return errors.New("the store is in use by a running kmipd; back it up through that kmipd ([admin] address, " +
			"allow_remote = true and backup_clients) or stop it first")
	}
	if certFile == "" || keyFile == "" {
		return errors.New("the store is in use by a running kmipd: -cert and -key name a client certificate for its admin listener")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("-cert/-key: %w", err)
	}
	caPEM, err := os.ReadFile(cfg.Server.CAPath)
	if err != nil {
		return fmt.Errorf("server.ca_path: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	host, _, _ := net.SplitHostPort(a.Address)
	tr := &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots,
		ServerName: host, MinVersion: tls.VersionTLS12}}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Minute}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+a.Address+"/backup", nil)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("admin listener %s: %w", a.Address, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("admin listener %s: %s: %s", a.Address, resp.Status, msg)
	}
	return writeNew(out, resp.Body)
}

// writeNew copies r to a new file at path (0600), synced; on failure no
// file is left.
func writeNew(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(path)
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// countObjects opens a copy of the store file at path (never the file
// itself, which opening could change) and counts its objects.
func countObjects(ctx context.Context, storageType, path string) (int, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".kmipd-check-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	in, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	probe := filepath.Join(tmp, "store")
	if err := writeNew(probe, in); err != nil {
		return 0, err
	}
	store, err := storageOpeners[storageType](StorageConfig{Type: storageType, Path: probe}, ports.CreationOpenExisting)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	ids, err := store.Locate(ctx, ports.LocateQuery{})
	return len(ids), err
}

// restoreCmd runs "kmipd restore -config FILE IN".
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var force bool
	cfg, in, code := backupFlags("restore -config FILE [-force] IN",
		"Puts the backup IN in place of the store that FILE names, kmipd being stopped. IN is\n"+
			"first opened (a copy of it) and its objects counted; the store file is then replaced\n"+
			"atomically and opened again, and the counts must match. An existing store is replaced\n"+
			"only with -force, and never while a kmipd has it open.",
		args, stderr, func(fs *flag.FlagSet) {
			fs.BoolVar(&force, "force", false, "replace an existing store")
		})
	if code >= 0 {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "kmipd: restore: %s\n", oneLine(fmt.Sprintf(format, a...)))
		return code
	}
	want, err := countObjects(ctx, cfg.Storage.Type, in)
	if err != nil {
		return fail(exitFailed, "%s is not a %s store kmipd can open: %v", in, cfg.Storage.Type, err)
	}
	dst := cfg.Storage.Path
	if _, err := os.Stat(dst); err == nil {
		if !force {
			return fail(exitFailed, "%s exists; stop kmipd and use -force to replace it", dst)
		}
		if inUse(cfg.Storage.Type, dst) {
			return fail(exitFailed, "%s is open in a running kmipd; stop it first", dst)
		}
	}
	src, err := os.Open(in)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	defer src.Close()
	tmp := dst + ".restore-tmp"
	os.Remove(tmp)
	if err := writeNew(tmp, src); err != nil {
		return fail(exitFailed, "%v", err)
	}
	for _, stale := range []string{dst + "-wal", dst + "-shm"} { // SQLite's, of the replaced store
		os.Remove(stale)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fail(exitFailed, "%v", err)
	}
	if err := syncDir(dst); err != nil {
		return fail(exitFailed, "%v", err)
	}
	got, err := countObjects(ctx, cfg.Storage.Type, dst)
	if err != nil || got != want {
		return fail(exitFailed, "the restored store holds %d objects, the backup %d (%v)", got, want, err)
	}
	fmt.Fprintf(stdout, "restored %s from %s: %d objects\n", dst, in, got)
	return exitOK
}

// inUse reports whether a running process has the store open: bbolt's
// file lock, or the lock every SQLite connection holds on its WAL index
// (the "DMS" byte at offset 128 of the -shm file, SQLite's unix VFS).
func inUse(storageType, path string) bool {
	file, off := path, int64(0)
	if storageType == "sqlite" {
		file, off = path+"-shm", 128
		if _, err := os.Stat(file); err != nil {
			return false
		}
	}
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if storageType == "bbolt" {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return true
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: off, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != syscall.F_UNLCK
}
