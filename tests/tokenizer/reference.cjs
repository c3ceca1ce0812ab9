// Reference ids and texts from the JavaScript tokenizer (@lenml/tokenizers,
// a port of transformers.js) for a corpus written by make_corpus.py.
//
//   node reference.cjs --modules <node_modules> --tokenizer tokenizer.json
//        [--config tokenizer_config.json] --corpus corpus.json --out reference.json
//
// Writes, for each case: its ids with special tokens recognised ("encode")
// and not recognised ("encode_plain"), and the decode of those ids with
// special tokens shown and skipped; for each random id sequence, its decode
// with special tokens shown and skipped.
"use strict";

const fs = require("fs");
const path = require("path");

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
      throw new Error(`bad argument ${argv[i]}`);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ["modules", "tokenizer", "corpus", "out"]) {
    if (!args[required]) throw new Error(`--${required} is required`);
  }
  return args;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function main() {
  const args = parseArgs(process.argv);
  const { TokenizerLoader } = require(path.join(args.modules, "@lenml", "tokenizers"));
  const tokenizerJSON = readJson(args.tokenizer);
  const tokenizerConfig = {
    tokenizer_class: "Qwen2Tokenizer",
    ...(args.config ? readJson(args.config) : {}),
    clean_up_tokenization_spaces: false,
  };
  const full = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  // Special tokens not recognised (HF's split_special_tokens): the same file
  // without its special added tokens, so their text goes through BPE.
  const plain = TokenizerLoader.fromPreTrained({
    tokenizerJSON: {
      ...tokenizerJSON,
      added_tokens: tokenizerJSON.added_tokens.filter((t) => !t.special),
    },
    tokenizerConfig: { ...tokenizerConfig, additional_special_tokens: [] },
  });

  const corpus = readJson(args.corpus);
  const encodeOptions = { add_special_tokens: false };
  const decode = (ids, skip) =>
    full.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });

  const start = process.hrtime.bigint();
  const encode = corpus.cases.map((c) => full.encode(c.text, encodeOptions));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const reference = {
    encode,
    encode_plain: corpus.cases.map((c) => plain.encode(c.text, encodeOptions)),
    decode: encode.map((ids) => decode(ids, false)),
    decode_skip: encode.map((ids) => decode(ids, true)),
    decode_cases: corpus.decode_cases.map((ids) => decode(ids, false)),
    decode_cases_skip: corpus.decode_cases.map((ids) => decode(ids, true)),
  };
  fs.writeFileSync(args.out, JSON.stringify(reference));
  console.log(
    `wrote ${args.out}: ${encode.length} texts (${seconds.toFixed(2)} s to encode), ` +
      `${corpus.decode_cases.length} id sequences`
  );
}

main();
