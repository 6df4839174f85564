#!/usr/bin/env node
// Validates KQL files with Microsoft's Kusto language service (@kusto/language-service-next 12.4.1):
// the parser and semantic analyser of the Azure Data Explorer / Log Analytics editors.
//
//   node tests/kql/validate.js QUERY_FILE...
//
// Each file is analysed against a workspace that declares AzureDiagnostics and AZKVAuditLogs with every
// column of the Key Vault AuditEvent schema (docs: azure-api.md section 6; AZKVAuditLogs from the Azure
// Monitor table reference). kvaudit's placeholders ({{VAULT_IDS}}, {{START}}, {{END}},
// {{CHALLENGE_SECONDS}}, and the events view's {{LIMIT}}, {{OPERATION}}, {{CALLER}}, {{STATUS}}, {{PATH}}, {{OBJECT}},
// {{CALLER_PREFIXES}}, {{CALLER_PREFIX_LENGTH}}, and the timeline's {{BIN}}) are
// replaced by sample values first. A file is analysed against four workspaces:
//   full:      both tables, AzureDiagnostics with every flattened column;
//   minimal:   AzureDiagnostics with only its fixed columns (a workspace where no row ever filled a
//              flattened column such as identity_claim_upn_s): a query that names such a column without
//              column_ifexists() fails here, as it would in a real workspace;
//   azkv-only: no AzureDiagnostics table (resource-specific diagnostic settings only);
//   ad-only:   no AZKVAuditLogs table (legacy AzureDiagnostics mode only).
// The last two fail a query that reads both tables without `union isfuzzy=true`.
// Prints every diagnostic; exits 1 if any has severity Error. Otherwise prints, per file, the result
// schema the analyser infers ("schema: FILE: name:type, ...") and "ok: FILE".
// The package is looked up in $KVAUDIT_KQL_NODE_MODULES (a node_modules dir), then $KVAUDIT_TOOLS/node_modules
// (default ~/.cache/kvaudit-tools), then the normal node resolution; scripts/kql-tools.sh installs it.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const PKG = '@kusto/language-service-next';

function loadLanguageService() {
  const tools = process.env.KVAUDIT_TOOLS || path.join(os.homedir(), '.cache', 'kvaudit-tools');
  const dirs = [process.env.KVAUDIT_KQL_NODE_MODULES, path.join(tools, 'node_modules'), path.join(__dirname, 'node_modules')]
    .filter(Boolean);
  for (const dir of dirs) {
    const base = path.join(dir, PKG);
    if (fs.existsSync(path.join(base, 'Kusto.Language.Bridge.min.js'))) {
      require(path.join(base, 'bridge.min.js'));
      require(path.join(base, 'Kusto.Language.Bridge.min.js'));
      return base;
    }
  }
  // Last resort: normal resolution (a global install, NODE_PATH).
  require(`${PKG}/bridge.min.js`);
  require(`${PKG}/Kusto.Language.Bridge.min.js`);
  return PKG;
}

// Sample values for kvaudit's placeholders: the shapes the Rust side substitutes.
const SAMPLE = {
  VAULT_IDS: 'dynamic(["/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv1", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv2"])',
  START: 'datetime(2026-11-26T09:00:00Z)',
  END: 'datetime(2026-11-27T09:00:00Z)',
  CHALLENGE_SECONDS: '60',
  // kvaudit access, events view.
  LIMIT: '100',
  OPERATION: '"SecretGet"',
  CALLER: '""',
  STATUS: '0',
  PATH: '"/secrets/db-password"',
  OBJECT: '""',
  CALLER_PREFIXES: 'dynamic(["0000:0000:0000:0000:0000:ffff:c000:020", "0000:0000:0000:0000:0000:ffff:c000:021"])',
  CALLER_PREFIX_LENGTH: '38',
  // kvaudit access, timeline view.
  BIN: '1h',
};

// AzureDiagnostics: the fixed columns every AzureDiagnostics table has, and the Key Vault flattened
// (suffix-typed) columns, which exist only once some row populated them.
const AZURE_DIAGNOSTICS_FIXED = [
  ['TimeGenerated', 'datetime'], ['TenantId', 'string'], ['ResourceId', 'string'], ['_ResourceId', 'string'],
  ['SubscriptionId', 'string'], ['_SubscriptionId', 'string'], ['ResourceGroup', 'string'],
  ['ResourceProvider', 'string'], ['ResourceType', 'string'], ['Resource', 'string'], ['Category', 'string'],
  ['OperationName', 'string'], ['OperationVersion', 'string'], ['ResultType', 'string'],
  ['ResultSignature', 'string'], ['ResultDescription', 'string'], ['DurationMs', 'long'],
  ['CallerIPAddress', 'string'], ['CorrelationId', 'string'], ['SourceSystem', 'string'], ['Type', 'string'],
  ['_BilledSize', 'real'], ['_IsBillable', 'string'],
];
const AZURE_DIAGNOSTICS_FLATTENED = [
  ['requestUri_s', 'string'], ['id_s', 'string'], ['clientInfo_s', 'string'], ['httpStatusCode_d', 'real'],
  ['isAccessPolicyMatch_b', 'bool'], ['isRbacAuthorized_b', 'bool'], ['tlsVersion_s', 'string'],
  ['identity_claim_appid_g', 'guid'], ['identity_claim_oid_g', 'guid'],
  ['identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g', 'guid'],
  ['identity_claim_upn_s', 'string'], ['identity_claim_unique_name_s', 'string'],
  ['identity_claim_idtyp_s', 'string'], ['identity_claim_appidacr_s', 'string'],
  ['identity_claim_xms_az_nwperimid_s', 'string'], ['identity_claim_ipaddr_s', 'string'],
  ['properties_enableRbacAuthorization_b', 'bool'],
];
// AZKVAuditLogs (resource-specific table: a fixed schema, all columns always present).
const AZKV_AUDIT_LOGS = [
  ['TimeGenerated', 'datetime'], ['_ResourceId', 'string'], ['_SubscriptionId', 'string'], ['TenantId', 'string'],
  ['OperationName', 'string'], ['OperationVersion', 'string'], ['ResultType', 'string'],
  ['ResultSignature', 'string'], ['ResultDescription', 'string'], ['DurationMs', 'int'],
  ['CallerIpAddress', 'string'], ['CorrelationId', 'string'], ['Identity', 'dynamic'], ['ClientInfo', 'string'],
  ['RequestUri', 'string'], ['Id', 'string'], ['HttpStatusCode', 'int'], ['IsAccessPolicyMatch', 'bool'],
  ['IsRbacAuthorized', 'bool'], ['AppliedAssignmentId', 'string'], ['IsAddressAuthorized', 'bool'],
  ['AddressAuthorizationType', 'string'], ['SubnetId', 'string'], ['TrustedService', 'string'],
  ['Tlsversion', 'string'], ['Nsp', 'dynamic'], ['NetworkAcls', 'dynamic'], ['Properties', 'dynamic'],
  ['KeyProperties', 'dynamic'], ['SecretProperties', 'dynamic'], ['CertificateProperties', 'dynamic'],
  ['CertificatePolicyProperties', 'dynamic'], ['CertificateIssuerProperties', 'dynamic'],
  ['CertificateRequestProperties', 'dynamic'], ['StorageAccountProperties', 'dynamic'],
  ['StorageSasDefinitionProperties', 'dynamic'], ['VaultProperties', 'dynamic'], ['Sku', 'dynamic'],
  ['EnabledForDeployment', 'bool'], ['EnabledForDiskEncryption', 'bool'],
  ['EnabledForTemplateDeployment', 'bool'], ['EnablePurgeProtection', 'bool'], ['EnableRbacAuthorization', 'bool'],
  ['EnableSoftDelete', 'bool'], ['SoftDeleteRetentionInDays', 'int'], ['HsmPoolResourceId', 'string'],
  ['Algorithm', 'string'], ['SourceSystem', 'string'], ['Type', 'string'], ['_BilledSize', 'real'],
  ['_IsBillable', 'string'],
];

// The workspaces each file is analysed against (see the header).
const VARIANTS = ['full', 'minimal', 'azkv-only', 'ad-only'];

function globalsFor(variant) {
  const K = Kusto.Language;
  const sym = K.Symbols;
  const S = sym.ScalarTypes;
  const types = {
    string: S.String, datetime: S.DateTime, long: S.Long, int: S.Int, real: S.Real, bool: S.Bool,
    guid: S.Guid, dynamic: S.Dynamic,
  };
  const table = (name, cols) =>
    new sym.TableSymbol.$ctor4(name, cols.map(([c, t]) => {
      if (!types[t]) throw new Error(`unknown type ${t} for ${name}.${c}`);
      return new sym.ColumnSymbol(c, types[t]);
    }));
  const tables = [];
  if (variant !== 'azkv-only') {
    const ad = variant === 'minimal' ? AZURE_DIAGNOSTICS_FIXED : AZURE_DIAGNOSTICS_FIXED.concat(AZURE_DIAGNOSTICS_FLATTENED);
    tables.push(table('AzureDiagnostics', ad));
  }
  if (variant !== 'ad-only') tables.push(table('AZKVAuditLogs', AZKV_AUDIT_LOGS));
  const db = new sym.DatabaseSymbol.$ctor1('workspace', tables);
  return K.GlobalState.Default.WithDatabase(db);
}

function substitute(text) {
  if (!text.includes('{{')) return text;
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (m, name) => (name in SAMPLE ? SAMPLE[name] : m));
  const left = out.match(/\{\{[^}]*\}\}/);
  if (left) throw new Error(`unknown placeholder ${left[0]}`);
  return out;
}

// The result columns the analyser infers (full schema), e.g. "kind:string, count:long".
function describeResult(code) {
  const rt = code.ResultType;
  if (!rt || !rt.Columns) return '';
  const cols = [];
  for (let i = 0; i < rt.Columns.Count; i++) {
    const c = rt.Columns.getItem(i);
    cols.push(`${c.Name}:${c.Type.Name}`);
  }
  return cols.join(', ');
}

function lineCol(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

function main(files) {
  if (files.length === 0) {
    console.error('usage: node tests/kql/validate.js QUERY_FILE...');
    return 2;
  }
  try {
    loadLanguageService();
  } catch (e) {
    console.error(`validate.js: cannot load ${PKG} (run scripts/kql-tools.sh): ${e.message}`);
    return 2;
  }
  const globals = {};
  for (const v of VARIANTS) globals[v] = globalsFor(v);
  let failed = false;
  for (const file of files) {
    let query;
    try {
      query = substitute(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      console.error(`${file}: ${e.message}`);
      failed = true;
      continue;
    }
    let errors = 0;
    let resultSchema = '';
    for (const variant of Object.keys(globals)) {
      const code = Kusto.Language.KustoCode.ParseAndAnalyze(query, globals[variant]);
      const diags = code.GetDiagnostics();
      for (let i = 0; i < diags.Count; i++) {
        const d = diags.getItem(i);
        const where = d.HasLocation ? lineCol(query, d.Start) : '-';
        const snippet = d.HasLocation ? ` near '${query.substr(d.Start, Math.min(d.Length, 60)).replace(/\s+/g, ' ')}'` : '';
        console.log(`${file}:${where}: ${d.Severity} ${d.Code} [${variant} schema]: ${d.Message}${snippet}`);
        if (d.Severity === 'Error') errors++;
      }
      if (variant === 'full') resultSchema = describeResult(code);
    }
    if (errors) {
      console.log(`FAIL: ${file}: ${errors} error(s)`);
      failed = true;
    } else {
      if (resultSchema) console.log(`schema: ${file}: ${resultSchema}`);
      console.log(`ok: ${file}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
