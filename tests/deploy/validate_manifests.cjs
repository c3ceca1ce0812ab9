// Validates Kubernetes manifests offline against the API's JSON schemas:
// kubernetes-models (Kubernetes 1.27) for the built-in kinds and
// @kubernetes-models/prometheus-operator for PodMonitor.
//   node validate_manifests.cjs --modules NODE_MODULES FILE.yaml...
// Prints one line per object; exits 1 if any object fails its schema, has
// a kind without a schema here, or a file holds no object.
// The schemas check types, required fields and formats; like the API
// server's own schemas they allow fields they do not name, so a misspelt
// optional field passes here (tests/observability/test_deploy_files.py
// checks that the fields the deployment relies on are present).
"use strict";

const fs = require("fs");
const path = require("path");

function parseArguments(argv) {
  const files = [];
  let modules = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--modules") modules = argv[++i];
    else files.push(argv[i]);
  }
  if (!modules || files.length === 0) {
    console.error("usage: validate_manifests.cjs --modules NODE_MODULES FILE.yaml...");
    process.exit(2);
  }
  return { modules, files };
}

const { modules, files } = parseArguments(process.argv.slice(2));
const load = (name) => require(path.join(path.resolve(modules), name));
const YAML = load("yaml");

// The module of kubernetes-models (or a CRD package) that has apiVersion's kinds.
function modelModule(apiVersion) {
  if (apiVersion === "monitoring.coreos.com/v1") {
    return "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
  }
  return `kubernetes-models/${apiVersion}`;
}

function modelClass(object) {
  let exports;
  try {
    exports = load(modelModule(object.apiVersion));
  } catch (error) {
    return null;
  }
  const model = exports[object.kind];
  return typeof model === "function" ? model : null;
}

function validate(object) {
  if (!object || typeof object !== "object" || !object.apiVersion || !object.kind) {
    return "not a Kubernetes object (no apiVersion or kind)";
  }
  const Model = modelClass(object);
  if (!Model) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(object).validate();
    return null;
  } catch (error) {
    return error.message;
  }
}

let failures = 0;
for (const file of files) {
  const documents = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const objects = [];
  for (const document of documents) {
    if (document.errors.length > 0) {
      console.log(`FAIL ${file}: YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      failures++;
    } else if (document.contents !== null) {
      objects.push(document.toJS());
    }
  }
  if (objects.length === 0 && documents.every((d) => d.errors.length === 0)) {
    console.log(`FAIL ${file}: no Kubernetes object`);
    failures++;
  }
  for (const object of objects) {
    const name = `${object && object.kind}/${object && object.metadata && object.metadata.name}`;
    const error = validate(object);
    if (error) {
      console.log(`FAIL ${file}: ${name}: ${error}`);
      failures++;
    } else {
      console.log(`ok   ${file}: ${name} (${object.apiVersion})`);
    }
  }
}
process.exit(failures === 0 ? 0 : 1);
