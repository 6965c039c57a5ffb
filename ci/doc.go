// Package ci holds no code: its tests check the CI pipeline examples beside it
// (gitlab-nightly.example.yml, github-nightly.example.yml) against what the project has, and
// compare a `make pipeline` result with one `run` of the same matrix.
package ci
