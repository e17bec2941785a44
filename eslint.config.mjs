// ESLint flat config: typescript-eslint's recommended rules over every TypeScript file in the repo.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "dist/**", "tools/**", ".lab/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // What Pulumi serializes by value into state (__provider) runs in the dynamic-provider host. Some
    // module-level values do not survive that: a Set or Map arrives as a plain object, a Buffer as bytes
    // without methods, a parser instance as minified code needing `window`. Only the seam is serialized
    // now; it loads the providers (and remote/, config/) from the project with `require`, where module
    // state is ordinary (remote/windows/hostConnections.ts keeps one connection per host in a Map).
    files: ["providers/seam.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            ":matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration > VariableDeclarator > NewExpression",
          message:
            "No objects built at module scope in provider code: Pulumi's closure serializer cannot carry them.",
        },
        {
          selector:
            ":matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration > VariableDeclarator > CallExpression[callee.object.name='Buffer']",
          message:
            "No Buffer at module scope in provider code: it arrives in the provider host without its methods.",
        },
      ],
    },
  },
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
);
