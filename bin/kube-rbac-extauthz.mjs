#!/usr/bin/env node
// The `kube-rbac-extauthz` command of a checkout (`npm link`, or `npx kube-rbac-extauthz` inside
// it): Node >= 22.18 runs the TypeScript sources directly.
import "../src/main.ts";
