// The JavaScript reference's side of auroraedge-tokenizer-bench: encodes the
// documents of a JSON file (an array of strings) with @lenml/tokenizers,
// one after the other, and prints the wall and CPU seconds and the ids as
// JSON.
//
//   node js_encode_bench.cjs <node_modules> <tokenizer.json> <documents.json>
"use strict";

const fs = require("fs");
const path = require("path");

const [modules, tokenizerPath, documentsPath] = process.argv.slice(2);
const { TokenizerLoader } = require(path.join(modules, "@lenml", "tokenizers"));
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(tokenizerPath, "utf8")),
  tokenizerConfig: { tokenizer_class: "Qwen2Tokenizer", clean_up_tokenization_spaces: false },
});
const documents = JSON.parse(fs.readFileSync(documentsPath, "utf8"));
const options = { add_special_tokens: false };

const start = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
const ids = documents.map((text) => tokenizer.encode(text, options));
const cpu = process.cpuUsage(cpuStart);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu_seconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(JSON.stringify({ seconds, cpu_seconds, ids }));
