// compose-check validates a Docker Compose file the way `docker compose config` does, using
// Docker's own loader (github.com/compose-spec/compose-go/v2): compose-spec JSON schema,
// interpolation, normalisation and consistency checks (e.g. depends_on targets exist).
//
// Usage: compose-check <compose-file>
//
// On success it prints the service names as a JSON array and exits 0; otherwise it prints the
// validation error to stderr and exits 1. Variables that the file requires with ${VAR:?...}
// get dummy values when they are not set, so the check does not need real secrets.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

const projectName = "linkflow"

// dummyEnv holds values for variables the compose file requires; real values win.
var dummyEnv = map[string]string{
	"LINKFLOW_STATE_SECRET":    "compose-check-dummy-secret-0123456789abcdef",
	"LINKFLOW_CREDENTIALS_KEY": "-----BEGIN PGP PRIVATE KEY BLOCK-----",
	"LINKFLOW_ADMIN_KEY":       "compose-check-dummy-admin-key-0123456789",
	"LINKFLOW_PAYLOAD_KEYS":    "compose-check:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <compose-file>")
		os.Exit(2)
	}
	services, err := check(context.Background(), os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	out, err := json.Marshal(services)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func check(ctx context.Context, file string) ([]string, error) {
	path, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	var env []string
	for name, value := range dummyEnv {
		if _, set := os.LookupEnv(name); !set {
			env = append(env, name+"="+value)
		}
	}
	options, err := cli.NewProjectOptions([]string{path},
		cli.WithName(projectName),
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithOsEnv,
		cli.WithEnv(env),
		// Build contexts are only checked when building; keep paths as written.
		cli.WithResolvedPaths(false),
	)
	if err != nil {
		return nil, err
	}
	project, err := options.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	names := project.ServiceNames()
	sort.Strings(names)
	return names, nil
}
