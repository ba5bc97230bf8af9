package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	sealfile "github.com/kmipd/kmipd/adapters/seal/file"
	"github.com/kmipd/kmipd/ports"
)

func init() {
	subcommands["seal"] = subcommand{"seal keygen FILE | seal migrate|rotate|status -config FILE: key material sealed at rest", sealCmd}
}

const sealUsage = `Usage: kmipd seal keygen FILE
       kmipd seal migrate -config FILE
       kmipd seal rotate -config FILE
       kmipd seal status -config FILE

keygen writes a new 256-bit key-encryption key (KEK) to FILE, mode 0600,
for [seal] type = "file"; it never overwrites a file.

migrate seals in place the key material a store holds in clear (a store
written before [seal] was set): run it with kmipd stopped, after setting
[seal] in FILE.

rotate rewraps every data key under the current KEK ([seal] key_file or
pkcs11.key_label) that is still wrapped under a previous one
(previous_key_files, pkcs11.previous_key_labels). A kmipd started with
previous KEKs does the same in the background while it serves; rotate is
for a stopped kmipd (a bbolt store is locked by a running one). Both
resume an interrupted rotation. When it reports "complete", remove the
previous KEKs from [seal].

status reports, from a sample of the store, which KEKs seal it.

Exit status: 0 done, 1 store failure, 78 configuration error (one line
naming the [seal] key).
`

// sealCmd runs "kmipd seal ...".
func sealCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args) {
		fmt.Fprint(stderr, sealUsage)
		return helpOrUsage(args)
	}
	switch args[0] {
	case "keygen":
		if len(args) != 2 {
			fmt.Fprint(stderr, sealUsage)
			return exitUsage
		}
		if err := sealfile.Generate(args[1]); err != nil {
			fmt.Fprintf(stderr, "kmipd: seal keygen: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "%s: new seal key (mode 0600); set [seal] type = \"file\", key_file = %q\n", args[1], args[1])
		return exitOK
	case "migrate", "rotate", "status":
		fs := flag.NewFlagSet("kmipd seal "+args[0], flag.ContinueOnError)
		fs.SetOutput(stderr)
		config := fs.String("config", "", "the kmipd configuration `FILE`")
		if err := fs.Parse(args[1:]); err != nil || *config == "" || fs.NArg() > 0 {
			fmt.Fprint(stderr, sealUsage)
			return exitUsage
		}
		return sealStoreCmd(ctx, args[0], *config, stdout, stderr)
	}
	fmt.Fprintf(stderr, "kmipd: seal: unknown command %q\n", args[0])
	fmt.Fprint(stderr, sealUsage)
	return exitUsage
}

// sealStoreCmd opens the configured store and seal, checks them as the
// server would, and migrates, rotates or reports.
func sealStoreCmd(ctx context.Context, op, path string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return code
	}
	var f serveFlags
	fs := newServeFlagSet(&f, io.Discard) // sets the flags' defaults in f
	f.config = path
	cfg, err := loadConfig(fs, &f)
	if err == nil {
		err = cfg.Seal.checkFiles()
	}
	if err != nil {
		return fail(exitConfig, err)
	}
	if op != "status" && !cfg.Seal.sealed() {
		return fail(exitConfig, keyErr("seal.type", "%q: set [seal] type = \"file\" or \"pkcs11\" before kmipd seal %s", orNone(cfg.Seal.Type), op))
	}
	k, err := cfg.Seal.openKEKs()
	if err != nil {
		return fail(exitConfig, err)
	}
	if k != nil {
		defer k.Close()
	}
	store, err := storageOpeners[cfg.Storage.Type](cfg.Storage, ports.CreationOpenExisting)
	if err != nil {
		return fail(exitFailed, fmt.Errorf("storage %s %q: %w", cfg.Storage.Type, cfg.Storage.Path, err))
	}
	defer store.Close()
	_, s, sv, err := sealStore(&cfg.Seal, k, store)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return fail(exitConfig, err)
		}
		return fail(exitFailed, err)
	}
	if op == "status" {
		for id, n := range sv.KEKs {
			fmt.Fprintf(stdout, "sampled objects sealed under KEK %s: %d\n", id, n)
		}
		fmt.Fprintf(stdout, "sampled objects with key material in clear: %d\n", sv.Clear)
		if k != nil {
			fmt.Fprintf(stdout, "current KEK: %s\n", k.current.ID())
		}
		return exitOK
	}
	p, err := s.Reseal(ctx, nil)
	if err != nil {
		return fail(exitFailed, fmt.Errorf("seal %s: %d objects resealed before: %w", op, p.Resealed, err))
	}
	fmt.Fprintf(stdout, "seal %s complete: %d objects examined, %d resealed under KEK %s\n", op, p.Seen, p.Resealed, k.current.ID())
	return exitOK
}
