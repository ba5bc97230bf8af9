package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/ports"
)

func init() {
	subcommands["store"] = subcommand{"store init -config FILE | store copy -from A -to B: create a new store; copy one into another", storeCmd}
}

// How often the server checks that its store is still the one it opened,
// and how often it repeats that it is not.
var (
	storeCheckInterval = time.Second
	storeLostRepeat    = time.Minute
)

// storeCmd runs "kmipd store init [-config FILE] [flags]".
func storeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "copy" {
		return storeCopyCmd(ctx, args[1:], stdout, stderr)
	}
	if len(args) < 1 || args[0] != "init" || isHelp(args[1:]) {
		fmt.Fprintf(stderr, "Usage: kmipd store init -config FILE [flags]\n       kmipd store copy -from CONFIG_A -to CONFIG_B\n\n"+
			"init creates a new, empty store where the configuration's [storage] table says\n"+
			"(for servers run with storage.create = \"never\") and prints its identity.\n"+
			"Refuses, changing nothing, when something already exists there.\n"+
			"copy copies every object between two stores of any types (kmipd store copy -h).\n")
		return helpOrUsage(args)
	}
	var f serveFlags
	fs := newServeFlagSet(&f, stderr)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kmipd: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := loadConfig(fs, &f)
	if err == nil {
		if derr := isDir(filepath.Dir(cfg.Storage.Path)); derr != nil {
			err = &ConfigError{Key: cfg.storageKey(), Value: cfg.Storage.Path, Err: derr}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return exitConfig
	}
	store, err := storageOpeners[cfg.Storage.Type](cfg.Storage, ports.CreationNew)
	if errors.Is(err, ports.ErrExists) {
		fmt.Fprintf(stderr, "kmipd: %s already exists; kmipd store init only creates new stores, and changed nothing\n", cfg.Storage.Path)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: creating the store: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	defer store.Close()
	id := "(no identity)"
	if d, ok := store.(ports.Describer); ok {
		if info, err := d.Info(context.Background()); err == nil {
			id = info.ID
		}
	}
	fmt.Fprintf(stdout, "created store %s (%s) at %s\n", id, cfg.Storage.Type, cfg.Storage.Path)
	return exitOK
}

// openStore opens the configured store as storage.create allows. A store
// missing when it may not be created, and a file that is not a kmipd store,
// are configuration errors.
func openStore(cfg Config, configFile string) (ports.Store, error) {
	create := ports.CreationAuto
	if cfg.Storage.Create == storageCreateNever {
		create = ports.CreationOpenExisting
	}
	store, err := storageOpeners[cfg.Storage.Type](cfg.Storage, create)
	switch {
	case errors.Is(err, ports.ErrNoStore):
		if configFile == "" {
			configFile = "FILE"
		}
		return nil, keyErr("storage.create", `is "never" and there is no store at %s: run "kmipd store init -config %s" to create one`,
			cfg.Storage.Path, configFile)
	case errors.Is(err, ports.ErrNotAStore):
		return nil, &ConfigError{Key: cfg.storageKey(), Value: cfg.Storage.Path, Err: err}
	case pathRefused(err):
		// The operating system refuses the path (permissions, a read-only or
		// immutable directory, a file where a directory should be): the
		// configuration names a place kmipd cannot use.
		return nil, &ConfigError{Key: cfg.storageKey(), Value: cfg.Storage.Path, Err: err}
	}
	return store, err
}

// pathRefused reports whether err is the operating system refusing a path
// for good (as opposed to a transient I/O failure).
func pathRefused(err error) bool {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return false
	}
	for _, e := range []error{fs.ErrPermission, syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENOTDIR, syscall.EISDIR, syscall.ENOENT} {
		if errors.Is(pe.Err, e) {
			return true
		}
	}
	return false
}

// logStoreOpened says which store the server opened: a new one loudly, an
// existing one with its identity and object count.
func logStoreOpened(ctx context.Context, store ports.Store, c StorageConfig, log zerolog.Logger) error {
	d, ok := store.(ports.Describer)
	if !ok {
		log.Info().Str("storage", c.Type).Str("path", c.Path).Msg("opened the store")
		return nil
	}
	info, err := d.Info(ctx)
	if err != nil {
		return err
	}
	if info.New {
		log.Warn().Str("storage", c.Type).Str("path", c.Path).Str("store_id", info.ID).
			Msg("created a new store: no store existed at the path, so this server holds no keys; " +
				"if it held keys before, they are not in this store (storage.create = \"never\" refuses to start instead)")
		return nil
	}
	log.Info().Str("storage", c.Type).Str("path", c.Path).Str("store_id", info.ID).
		Time("store_created", info.Created).Int("objects", info.Objects).
		Msgf("opened store %s with %d objects", info.ID, info.Objects)
	return nil
}

// watchStore checks every storeCheckInterval that the store is still the one
// opened, if it can tell (ports.HealthChecker). Once it is lost it logs so at
// ERROR, and again every storeLostRepeat: the server is then not ready and
// acknowledges no write. It returns a function that stops the watcher.
func watchStore(store ports.Store, log zerolog.Logger) (stop func()) {
	h, ok := store.(ports.HealthChecker)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var lostAt, saidAt time.Time
		var lastErr string
		tick := time.NewTicker(storeCheckInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
			err := h.Check(cctx)
			ccancel()
			switch {
			case err == nil || ctx.Err() != nil:
				lastErr = ""
			case errors.Is(err, ports.ErrStoreLost):
				if lostAt.IsZero() {
					lostAt = time.Now()
				}
				if saidAt.IsZero() || time.Since(saidAt) >= storeLostRepeat {
					saidAt = time.Now()
					log.Error().Err(err).Bool("ready", false).Time("lost_at", lostAt).
						Msg("STORE LOST: the database is no longer the one kmipd opened; every write is refused and nothing is acknowledged. " +
							"Stop kmipd, put the database back (or restore it from a backup) and start kmipd again")
				}
			case err.Error() != lastErr:
				lastErr = err.Error()
				log.Warn().Err(err).Msg("checking the store failed")
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}
