//! Compiles the policy packages once, then evaluates every rule on every
//! vault of an inventory, one engine clone per worker thread.
use std::collections::BTreeMap;

use rayon::prelude::*;
use regorus::{Engine, Value};

use std::sync::Arc;

use super::data::PolicyData;
use super::input::{InputBuilder, Parts};
use super::metadata::RuleMetadata;
use super::source::PolicyFile;
pub use super::worker::{Limits, new_engine};
use super::worker::{Worker, new_vm};
use crate::error::Error;
use crate::finding::{Evidence, Finding, Resource, Status};
use crate::inventory::{Inventory, VaultInventory};

/// The generated package that gathers all vault rules' results.
const AGGREGATE_PACKAGE: &str = "kvaudit_internal.aggregate";
/// The same for the vault rules that do not declare `memo_key`.
const UNMEMOISED_PACKAGE: &str = "kvaudit_internal.aggregate_unmemoised";
/// The generated package that gathers the vault rules' `memo_key`s.
const MEMO_KEYS_PACKAGE: &str = "kvaudit_internal.memo_keys";
/// The same for subscription rules.
const SUBSCRIPTION_PACKAGE: &str = "kvaudit_internal.aggregate_subscription";
/// The generated package that gathers `data.kvaudit.precompute`.
const PRECOMPUTE_PACKAGE: &str = "kvaudit_internal.precompute";

/// A rule: its package and metadata.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `data.kvaudit.kv.audit_logging`.
    pub package: String,
    /// File that declares `metadata`.
    pub file: String,
    pub builtin: bool,
    pub metadata: RuleMetadata,
    /// `data.<package>.results`, prepared once.
    results_path: String,
    /// `data.<package>.memo_key`, when the package declares it: the rule's
    /// results on a resource depend only on that value (docs/policies.md,
    /// "memo_key"), so resources that share it are evaluated once.
    memo_path: Option<String>,
}

/// How rules are executed. Both give the same findings (a test checks it);
/// the VM is about twice as fast, the interpreter is the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evaluator {
    /// regorus' register VM (RVM): compiled once, run per vault.
    #[default]
    Vm,
    /// regorus' tree-walking interpreter.
    Interpreter,
}

/// Compiled policies and data, ready to evaluate.
#[derive(Clone)]
pub struct PolicySet {
    engine: Engine,
    rules: Vec<Rule>,
    data: PolicyData,
    evaluator: Evaluator,
    benchmark: Option<String>,
    limits: Limits,
    /// Whether alert facts are computed once per subscription (always, but
    /// for the differential test that checks the per-vault path agrees).
    precompute: bool,
    /// Whether rules that declare `memo_key` are evaluated once per key
    /// (always, but for the same test).
    memo: bool,
    /// Ids of every rule compiled, before `select`.
    loaded: Vec<String>,
}

/// A regorus error as one line, `file:line:col: message`. regorus writes
/// `--> file:line:col`, a source excerpt with a caret, then `kind: message`.
pub fn rego_error(err: &anyhow::Error) -> Error {
    Error::Rego(rego_error_line(&format!("{err:#}")))
}

fn rego_error_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let location = lines
        .iter()
        .find_map(|l| l.strip_prefix("--> "))
        .map(str::to_string);
    // The message is the last line that is not part of the excerpt.
    let message = lines
        .iter()
        .rev()
        .find(|l| {
            !l.starts_with("-->")
                && !l.starts_with('|')
                && !l.contains(" | ")
                && !l
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() && l.contains('|'))
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l).to_string())
        .unwrap_or_else(|| "unknown Rego error".into());
    match location {
        Some(loc) => format!("{loc}: {message}"),
        None => message,
    }
}

impl PolicySet {
    /// Compiles `files` (tests are skipped) with `data`. Packages that
    /// declare `metadata` are rules; the others are libraries.
    pub fn compile(files: &[PolicyFile], data: PolicyData) -> Result<PolicySet, Error> {
        let mut engine = new_engine();
        let mut package_files: BTreeMap<String, Vec<&PolicyFile>> = BTreeMap::new();
        for f in files.iter().filter(|f| !f.is_test) {
            forbid_network(f)?;
            let package = engine
                .add_policy(f.path.clone(), f.text.clone())
                .map_err(|e| rego_error(&e))?;
            package_files.entry(package).or_default().push(f);
        }
        if let Some(cycle) = super::recursion::find_cycle(engine.get_modules()) {
            return Err(Error::Policy(cycle.to_string()));
        }
        engine
            .add_data(Value::from(data.document.clone()))
            .map_err(|e| Error::Policy(format!("policy data: {e}")))?;

        let mut rules: Vec<Rule> = Vec::new();
        for (package, pfiles) in &package_files {
            let declares = |name: &str| {
                pfiles.iter().copied().find(|f| {
                    engine
                        .has_declared_rule_rooted_at(&f.path, name)
                        .unwrap_or(false)
                })
            };
            let meta_file = declares("metadata");
            let results_file = declares("results");
            let file = match (meta_file, results_file) {
                (None, None) => continue, // a library
                (None, Some(f)) => {
                    return Err(Error::Metadata {
                        file: f.path.clone(),
                        package: trim_data(package),
                        problem: "no `metadata` rule (every package with `results` needs one: id, title, description, severity, help, markdown)".into(),
                    });
                }
                (Some(f), None) => {
                    return Err(Error::Metadata {
                        file: f.path.clone(),
                        package: trim_data(package),
                        problem: "it has `metadata` but no `results` rule to evaluate".into(),
                    });
                }
                (Some(f), Some(_)) => f,
            };
            let memo_path = declares("memo_key").map(|_| format!("{package}.memo_key"));
            let value = engine
                .eval_rule(format!("{package}.metadata"))
                .map_err(|e| rego_error(&e))?;
            let json = serde_json::to_value(&value).unwrap_or_default();
            if value == Value::Undefined {
                return Err(Error::Metadata {
                    file: file.path.clone(),
                    package: trim_data(package),
                    problem: "`metadata` is undefined (a condition in its body failed)".into(),
                });
            }
            let metadata: RuleMetadata =
                serde_json::from_value(json).map_err(|e| Error::Metadata {
                    file: file.path.clone(),
                    package: trim_data(package),
                    problem: e.to_string(),
                })?;
            metadata.validate().map_err(|problem| Error::Metadata {
                file: file.path.clone(),
                package: trim_data(package),
                problem,
            })?;
            if let Some(other) = rules.iter().find(|r| r.metadata.id == metadata.id) {
                return Err(Error::DuplicateRule {
                    file: file.path.clone(),
                    id: metadata.id,
                    other: other.file.clone(),
                });
            }
            rules.push(Rule {
                package: package.clone(),
                file: file.path.clone(),
                builtin: file.builtin,
                results_path: format!("{package}.results"),
                memo_path,
                metadata,
            });
        }
        rules.sort_by(|a, b| a.metadata.id.cmp(&b.metadata.id));
        let ids: Vec<&str> = rules.iter().map(|r| r.metadata.id.as_str()).collect();
        data.check_severities(&ids)?;
        let loaded = rules.iter().map(|r| r.metadata.id.clone()).collect();
        Ok(PolicySet {
            loaded,
            engine,
            rules,
            data,
            evaluator: Evaluator::default(),
            benchmark: None,
            limits: Limits::default(),
            precompute: true,
            memo: true,
        })
    }

    /// Keeps only the rules `selection` names (see [`super::selection`]).
    pub fn select(&mut self, selection: &super::selection::Selection) -> Result<(), Error> {
        if selection.is_empty() {
            return Ok(());
        }
        let kept = super::selection::select(&self.rules, selection)?;
        let mut i = 0;
        self.rules.retain(|_| {
            let keep = kept.contains(&i);
            i += 1;
            keep
        });
        self.benchmark = selection.benchmark.clone();
        Ok(())
    }

    /// Keeps only the selected rules `keep` accepts; gives the ids of the
    /// others.
    pub fn retain_rules(&mut self, keep: impl Fn(&Rule) -> bool) -> Vec<String> {
        let mut dropped = Vec::new();
        self.rules.retain(|r| {
            let k = keep(r);
            if !k {
                dropped.push(r.metadata.id.clone());
            }
            k
        });
        dropped
    }

    /// The benchmark the run reports by (`--benchmark`), if any.
    pub fn benchmark(&self) -> Option<&str> {
        self.benchmark.as_deref()
    }

    /// What the selected rules read, so a scan collects nothing more.
    pub fn needs(&self) -> std::collections::BTreeSet<super::metadata::Input> {
        self.rules.iter().flat_map(|r| r.metadata.reads()).collect()
    }

    fn scoped(&self, scope: &str) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.metadata.scope == scope)
            .collect()
    }

    pub fn set_evaluator(&mut self, evaluator: Evaluator) {
        self.evaluator = evaluator;
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Turns the per-subscription alert precompute off, so every vault
    /// computes its alert facts itself. For tests: both ways must agree.
    #[doc(hidden)]
    pub fn set_precompute(&mut self, on: bool) {
        self.precompute = on;
    }

    /// Turns `memo_key` off, so every rule is evaluated on every resource.
    /// For tests: both ways must agree.
    #[doc(hidden)]
    pub fn set_memo(&mut self, on: bool) {
        self.memo = on;
    }

    /// The selected vault rules split in two: those evaluated once per
    /// `memo_key` (when memoisation is on) and the others.
    fn memo_split(&self) -> (Vec<&Rule>, Vec<&Rule>) {
        self.scoped("vault")
            .into_iter()
            .partition(|r| self.memo && r.memo_path.is_some())
    }

    /// Every rule id loaded, selected or not (waivers may name any of them).
    pub fn loaded_rule_ids(&self) -> Vec<&str> {
        self.loaded.iter().map(String::as_str).collect()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn data(&self) -> &PolicyData {
        &self.data
    }

    /// An engine that also holds one generated package gathering every
    /// selected rule's `results`, so one evaluation per vault runs all rules
    /// and the helper library's rules are computed once per vault; and
    /// whether it holds the per-subscription precompute (a library may not).
    fn evaluation_engine(&self) -> Result<(Engine, bool), Error> {
        let mut engine = self.engine.clone();
        let (memoised, unmemoised) = self.memo_split();
        let memo_keys: Vec<(&Rule, &str)> = memoised
            .iter()
            .filter_map(|r| Some((*r, r.memo_path.as_deref()?)))
            .collect();
        for (package, name, rules) in [
            (AGGREGATE_PACKAGE, "vault", self.scoped("vault")),
            (UNMEMOISED_PACKAGE, "vault-unmemoised", unmemoised),
            (
                SUBSCRIPTION_PACKAGE,
                "subscription",
                self.scoped("subscription"),
            ),
        ] {
            let entries: Vec<(&Rule, &str)> = rules
                .iter()
                .map(|r| (*r, r.results_path.as_str()))
                .collect();
            add_aggregate(&mut engine, package, name, &entries)?;
        }
        add_aggregate(&mut engine, MEMO_KEYS_PACKAGE, "memo-keys", &memo_keys)?;
        // The per-subscription precompute, when the library has it.
        let precompute = engine
            .get_packages()
            .map_err(|e| rego_error(&e))?
            .iter()
            .any(|p| p == "data.kvaudit.precompute");
        if precompute {
            engine
                .add_policy(
                    "<kvaudit>/precompute.rego".into(),
                    format!(
                        "package {PRECOMPUTE_PACKAGE}\n\n# A variable key keeps `result` one partial-object rule.\nresult[k] := v if {{\n\tk := \"alertFacts\"\n\tv := data.kvaudit.precompute.subscription_alert_facts\n}}\n\nresult[k] := v if {{\n\tk := \"alertIndex\"\n\tv := data.kvaudit.precompute.subscription_alert_index\n}}\n"
                    ),
                )
                .map_err(|e| rego_error(&e))?;
        }
        // Prepare once here, so worker clones do not each analyse the modules.
        engine.set_input(Value::new_object());
        if !self.scoped("vault").is_empty() {
            engine
                .eval_rule(format!("data.{AGGREGATE_PACKAGE}.results"))
                .map_err(|e| rego_error(&e))?;
        }
        if !memo_keys.is_empty() {
            engine
                .eval_rule(format!("data.{MEMO_KEYS_PACKAGE}.results"))
                .map_err(|e| rego_error(&e))?;
        }
        Ok((engine, precompute))
    }

    /// Evaluates every rule on every vault. Findings come back sorted by
    /// rule, resource and discriminator, whatever the thread count.
    ///
    /// An evaluation error never ends the run: it makes exactly the (rule,
    /// resource) pairs it happened on not evaluable, with the engine's
    /// message (see [`PolicySet::evaluate_resource`]).
    pub fn evaluate(&self, inventory: &Inventory) -> Result<Vec<Finding>, Error> {
        let prepared = self.prepare(inventory)?;
        self.evaluate_vaults(prepared, Vaults::Kept(&inventory.vaults))
    }

    /// [`Self::evaluate`], releasing what was collected about each vault
    /// ([`VaultInventory::release`]) as soon as its rules have judged it, so
    /// that the findings reuse the inventory's memory: what `eval`, `scan`
    /// and `fix` run (10,000 vaults at Azure's limits, all rules: peak RSS
    /// 853–943 MB before, 566–683 MB after).
    pub fn evaluate_releasing(&self, inventory: &mut Inventory) -> Result<Vec<Finding>, Error> {
        let prepared = self.prepare(inventory)?;
        let mut vaults = std::mem::take(&mut inventory.vaults);
        let findings = self.evaluate_vaults(prepared, Vaults::Released(&mut vaults));
        inventory.vaults = vaults;
        findings
    }

    /// The policies compiled for evaluation, the alert facts precomputed,
    /// and the subscription rules' findings.
    fn prepare(&self, inventory: &Inventory) -> Result<Prepared, Error> {
        let started = std::time::Instant::now();
        let mut builder = InputBuilder::new(inventory, Parts::of(&self.needs()));
        let (base, has_precompute) = self.evaluation_engine()?;
        // Only when a selected rule reads the alerts.
        if self.precompute
            && has_precompute
            && self
                .needs()
                .contains(&super::metadata::Input::ActivityLogAlerts)
        {
            self.precompute_subscriptions(&mut builder, &base)?;
        }
        tracing::debug!(
            "policies prepared and alert facts precomputed in {} ms",
            started.elapsed().as_millis()
        );
        let mut findings = self.evaluate_subscriptions(&builder, &base, inventory)?;
        findings.extend(self.unlisted_subscriptions(inventory));
        Ok(Prepared {
            started,
            builder,
            base,
            findings,
        })
    }

    /// The vault rules on every vault, after [`Self::prepare`].
    fn evaluate_vaults(
        &self,
        prepared: Prepared,
        vaults: Vaults<'_>,
    ) -> Result<Vec<Finding>, Error> {
        let Prepared {
            started,
            builder,
            base,
            mut findings,
        } = prepared;
        let vault_count = match &vaults {
            Vaults::Kept(v) => v.len(),
            Vaults::Released(v) => v.len(),
        };
        let vault_rules = self.scoped("vault");
        if vault_rules.is_empty() {
            sort_findings(&mut findings);
            report_errors(&findings);
            return Ok(findings);
        }
        let query = format!("data.{AGGREGATE_PACKAGE}.results");
        // The aggregate's keys, built once rather than per vault and rule.
        let keys = rule_keys(&vault_rules);
        let (memoised, rest) = self.memo_split();
        let rest_query = format!("data.{UNMEMOISED_PACKAGE}.results");
        let memo_query = format!("data.{MEMO_KEYS_PACKAGE}.results");
        let memo = (!memoised.is_empty()).then(|| Memo {
            ids: rule_keys(&memoised),
            rules: &memoised,
            keys_path: &memo_query,
            rest: Box::new(Plan {
                rules: &rest,
                keys: rule_keys(&rest),
                aggregate: &rest_query,
                memo: None,
            }),
            cache: Default::default(),
        });
        let vm_factory = match self.evaluator {
            Evaluator::Interpreter => None,
            Evaluator::Vm => {
                // The aggregate, and each rule on its own for a resource on
                // which the aggregate failed; with memoised rules, their keys
                // and the aggregate of the others.
                let mut entries = vec![query.as_str()];
                entries.extend(vault_rules.iter().map(|r| r.results_path.as_str()));
                if memo.is_some() {
                    entries.push(&memo_query);
                    if !rest.is_empty() {
                        entries.push(&rest_query);
                    }
                }
                Some(self.vm_factory(&base, &entries)?)
            }
        };
        // Small tasks balance the cores; each worker keeps its VM (or engine)
        // across tasks, because a fresh VM pays a warm-up on its first vaults.
        let chunk = chunk_size(vault_count);
        let plan = Plan {
            rules: &vault_rules,
            keys,
            aggregate: &query,
            memo,
        };
        let new_worker = || match &vm_factory {
            Some(make) => make(),
            None => Worker::Interpreter(Box::new(base.clone())),
        };
        let judge = |worker: &mut Worker, v: &VaultInventory, out: &mut Vec<Finding>| {
            let (resource, input) = builder.vault_input(v);
            self.evaluate_resource(worker, &plan, &resource, &input, out);
        };
        let parts: Vec<Vec<Finding>> = match vaults {
            Vaults::Kept(vaults) => vaults
                .par_chunks(chunk)
                .map_init(new_worker, |worker, chunk| {
                    let mut out = Vec::with_capacity(chunk.len() * vault_rules.len());
                    for v in chunk {
                        judge(worker, v, &mut out);
                    }
                    out
                })
                .collect(),
            Vaults::Released(vaults) => vaults
                .par_chunks_mut(chunk)
                .map_init(new_worker, |worker, chunk| {
                    let mut out = Vec::with_capacity(chunk.len() * vault_rules.len());
                    for v in chunk {
                        judge(worker, v, &mut out);
                        v.release();
                    }
                    out
                })
                .collect(),
        };
        for p in parts {
            findings.extend(p);
        }
        tracing::debug!(
            "{} vault(s) evaluated in {} ms{}",
            vault_count,
            started.elapsed().as_millis(),
            plan.memo.as_ref().map_or(String::new(), |m| format!(
                " ({} rule(s) evaluated once per memo_key: {} distinct keys)",
                m.rules.len(),
                m.cache.lock().map_or(0, |c| c.len())
            ))
        );
        let sorting = std::time::Instant::now();
        sort_findings(&mut findings);
        report_errors(&findings);
        tracing::debug!(
            "{} finding(s) sorted in {} ms",
            findings.len(),
            sorting.elapsed().as_millis()
        );
        Ok(findings)
    }

    /// Runs `data.kvaudit.precompute` once per subscription, on the VM (or
    /// the interpreter), subscriptions in parallel, and hands the results to
    /// the input builder.
    fn precompute_subscriptions(
        &self,
        builder: &mut InputBuilder,
        base: &Engine,
    ) -> Result<(), Error> {
        let entry = format!("data.{PRECOMPUTE_PACKAGE}.result");
        let inputs = builder.precompute_inputs();
        let make: Box<dyn Fn() -> Worker + Sync> = match self.evaluator {
            Evaluator::Interpreter => Box::new(|| Worker::Interpreter(Box::new(base.clone()))),
            Evaluator::Vm => Box::new(self.vm_factory(base, &[entry.as_str()])?),
        };
        // Precompute is not budgeted per rule: it is the library's own work,
        // linear in the subscription's alerts.
        let results: Vec<(String, Result<Value, String>)> = inputs
            .into_par_iter()
            .map_init(&make, |worker, (id, input)| {
                let r = worker.run(&entry, &input, usize::MAX);
                (id, r)
            })
            .collect();
        for (id, r) in results {
            builder.apply_precompute(&id, r);
        }
        Ok(())
    }

    /// Compiles `entries` of `engine` for regorus' VM once (checking that the
    /// policy data loads), and gives what makes one worker's VM from it.
    fn vm_factory(
        &self,
        engine: &Engine,
        entries: &[&str],
    ) -> Result<impl Fn() -> Worker + Sync + use<>, Error> {
        let compiled = engine
            .clone()
            .compile_with_entrypoint(&entries[0].into())
            .map_err(|e| rego_error(&e))?;
        let program =
            regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, entries)
                .map_err(|e| Error::Rego(rego_error_line(&e.to_string())))?;
        let data = Value::from(self.data.document.clone());
        // Check once that the data loads, so workers cannot fail on it.
        regorus::rvm::vm::RegoVM::new_with_policy(compiled.clone())
            .set_data(data.clone())
            .map_err(|e| Error::Policy(format!("policy data: {e}")))?;
        Ok(move || {
            Worker::Vm(Box::new(new_vm(
                compiled.clone(),
                program.clone(),
                data.clone(),
            )))
        })
    }

    /// All rules of `plan` on one resource: one run of the aggregate, or,
    /// when that fails, each rule on its own, so that an error (a builtin
    /// given a bad value, the instruction budget, a malformed result) makes
    /// only the rules it happened in not evaluable.
    ///
    /// Rules that declare `memo_key` are run only for a key not seen before;
    /// the other resources with that key get the same results. When their
    /// keys cannot be computed on a resource, every rule runs on it.
    fn evaluate_resource(
        &self,
        worker: &mut Worker,
        plan: &Plan<'_>,
        resource: &Arc<Resource>,
        input: &Value,
        out: &mut Vec<Finding>,
    ) {
        if let Some(memo) = &plan.memo {
            match worker.run(memo.keys_path, input, self.budget_for(memo.rules.len())) {
                Ok(keys) => {
                    if !memo.rest.rules.is_empty() {
                        self.evaluate_group(worker, &memo.rest, resource, input, out);
                    }
                    for (i, (rule, id)) in memo.rules.iter().zip(&memo.ids).enumerate() {
                        self.evaluate_memoised(
                            worker, memo, i, rule, &keys[id], resource, input, out,
                        );
                    }
                    return;
                }
                Err(e) => tracing::debug!(
                    "memo keys could not be computed on {}, evaluating every rule: {e}",
                    resource.name
                ),
            }
        }
        self.evaluate_group(worker, plan, resource, input, out);
    }

    /// One memoised rule on one resource: the results cached for `key`, or
    /// the rule run on this resource (and cached when the key is defined).
    #[allow(clippy::too_many_arguments)]
    fn evaluate_memoised(
        &self,
        worker: &mut Worker,
        memo: &Memo<'_>,
        index: usize,
        rule: &Rule,
        key: &Value,
        resource: &Arc<Resource>,
        input: &Value,
        out: &mut Vec<Finding>,
    ) {
        let cache_key = (index, key.clone());
        let cached = match key {
            Value::Undefined => None,
            _ => memo
                .cache
                .lock()
                .ok()
                .and_then(|c| c.get(&cache_key).cloned()),
        };
        if let Some(findings) = cached {
            // The same verdicts, messages and (shared) evidence, on this
            // resource.
            out.extend(findings.iter().map(|f| Finding {
                resource: resource.clone(),
                fingerprint: Finding::fingerprint_of(&f.rule_id, &resource.id, &f.discriminator),
                ..f.clone()
            }));
            return;
        }
        match worker.run(&rule.results_path, input, self.limits.max_instructions) {
            Ok(value) => {
                let before = out.len();
                // A malformed result names the resource in its error: only
                // well-formed findings are shared.
                if self.collect_or_mark(rule, resource, &value, out)
                    && *key != Value::Undefined
                    && let Ok(mut c) = memo.cache.lock()
                {
                    c.insert(cache_key, Arc::new(out[before..].to_vec()));
                }
            }
            Err(e) => out.push(self.evaluation_error(rule, resource, &e)),
        }
    }

    /// The rules of `plan` on one resource, all at once, or one by one when
    /// that fails.
    fn evaluate_group(
        &self,
        worker: &mut Worker,
        plan: &Plan<'_>,
        resource: &Arc<Resource>,
        input: &Value,
        out: &mut Vec<Finding>,
    ) {
        let budget = self.limits.max_instructions;
        match worker.run(plan.aggregate, input, self.budget_for(plan.rules.len())) {
            Ok(all) => {
                for (rule, key) in plan.rules.iter().zip(&plan.keys) {
                    self.collect_or_mark(rule, resource, &all[key], out);
                }
            }
            Err(e) => {
                tracing::debug!(
                    "all rules at once failed on {}, evaluating them one by one: {e}",
                    resource.name
                );
                for rule in plan.rules {
                    match worker.run(&rule.results_path, input, budget) {
                        Ok(value) => {
                            self.collect_or_mark(rule, resource, &value, out);
                        }
                        Err(e) => out.push(self.evaluation_error(rule, resource, &e)),
                    }
                }
            }
        }
    }

    /// [`Self::collect`], or one not-evaluable finding that says what was
    /// wrong with the rule's `results` on this resource. True when the
    /// results were well formed.
    fn collect_or_mark(
        &self,
        rule: &Rule,
        resource: &Arc<Resource>,
        value: &Value,
        out: &mut Vec<Finding>,
    ) -> bool {
        let before = out.len();
        match self.collect(rule, resource, value, out) {
            Ok(()) => true,
            Err(e) => {
                out.truncate(before);
                out.push(self.evaluation_error(rule, resource, &e.to_string()));
                false
            }
        }
    }

    /// The instruction budget of one run over `rules` rules at once: each
    /// rule's budget, summed.
    fn budget_for(&self, rules: usize) -> usize {
        self.limits.max_instructions.saturating_mul(rules.max(1))
    }

    /// The not-evaluable finding of a rule whose evaluation on `resource`
    /// failed. Its evidence carries `evaluationError`, which
    /// [`report_errors`] counts.
    fn evaluation_error(&self, rule: &Rule, resource: &Arc<Resource>, error: &str) -> Finding {
        let hint = if error.contains("instruction limit") {
            format!(
                " (the budget is {} instructions per rule and resource; raise it with --max-instructions or KVAUDIT_MAX_INSTRUCTIONS)",
                self.limits.max_instructions
            )
        } else {
            String::new()
        };
        let message = format!("the policy could not be evaluated on this resource: {error}{hint}");
        Finding {
            rule_id: rule.metadata.id.clone(),
            severity: self.severity(rule),
            status: Status::NotEvaluable,
            fingerprint: Finding::fingerprint_of(&rule.metadata.id, &resource.id, ""),
            resource: resource.clone(),
            discriminator: String::new(),
            evidence: Evidence::from_json(
                serde_json::json!({"evaluationError": error, "policyFile": rule.file}).to_string(),
            ),
            message: message.into(),
            variant: None,
            waiver: None,
            baseline_state: None,
            failing_before: false,
            fix: None,
        }
    }

    fn severity(&self, rule: &Rule) -> crate::finding::Severity {
        self.data
            .severity_override(&rule.metadata.id)
            .unwrap_or(rule.metadata.severity)
    }

    /// Subscription rules, once per subscription that holds a vault of the
    /// inventory (kvaudit judges Key Vaults; a subscription without one has
    /// nothing for these rules to protect).
    fn evaluate_subscriptions(
        &self,
        builder: &InputBuilder,
        base: &Engine,
        inventory: &Inventory,
    ) -> Result<Vec<Finding>, Error> {
        let rules = self.scoped("subscription");
        let mut out = Vec::new();
        if rules.is_empty() {
            return Ok(out);
        }
        let mut worker = Worker::Interpreter(Box::new(base.clone()));
        let query = format!("data.{SUBSCRIPTION_PACKAGE}.results");
        let plan = Plan {
            rules: &rules,
            keys: rule_keys(&rules),
            aggregate: &query,
            memo: None,
        };
        for (resource, input) in builder.subscription_inputs(inventory) {
            self.evaluate_resource(&mut worker, &plan, &resource, &input, &mut out);
        }
        Ok(out)
    }

    /// Every selected rule is not evaluable for a subscription whose vaults
    /// could not be listed: none of its vaults could even be named.
    fn unlisted_subscriptions(&self, inventory: &Inventory) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in &inventory.subscriptions {
            let Some(reason) = s.vault_list_problem() else {
                continue;
            };
            let resource = Arc::new(super::input::subscription_resource(
                &s.subscription.subscription_id,
                s.subscription.display_name.as_deref(),
            ));
            for rule in &self.rules {
                out.push(Finding {
                    rule_id: rule.metadata.id.clone(),
                    severity: self.severity(rule),
                    status: Status::NotEvaluable,
                    fingerprint: Finding::fingerprint_of(&rule.metadata.id, &resource.id, "vault-list"),
                    resource: resource.clone(),
                    discriminator: "vault-list".into(),
                    message: format!(
                        "the vaults of subscription {} could not be listed ({reason}), so none of them was judged",
                        s.subscription.subscription_id
                    )
                    .into(),
                    variant: None,
                    evidence: None,
                    waiver: None,
                    baseline_state: None,
            failing_before: false,
                fix: None,
                });
            }
        }
        out
    }

    /// Turns one `results` value into findings. A rule that gives no verdict
    /// is reported as not evaluable: nothing passes by omission.
    fn collect(
        &self,
        rule: &Rule,
        resource: &std::sync::Arc<Resource>,
        value: &Value,
        out: &mut Vec<Finding>,
    ) -> Result<(), Error> {
        let severity = self.severity(rule);
        let items: Vec<&Value> = match value {
            Value::Set(s) => s.iter().collect(),
            Value::Array(a) => a.iter().collect(),
            Value::Undefined => vec![],
            other => {
                return Err(Error::Policy(format!(
                    "{}: `results` of {} must be a set of objects, found {}",
                    rule.file, rule.metadata.id, other
                )));
            }
        };
        let bad = |what: String| {
            Error::Policy(format!(
                "{}: a result of {} on {} {what}",
                rule.file, rule.metadata.id, resource.id
            ))
        };
        let before = out.len();
        for item in items {
            let status = match &item["status"] {
                Value::String(s) => Status::parse(s).ok_or_else(|| {
                    bad(format!(
                        "has status {s:?}; use \"pass\", \"fail\" or \"not_evaluable\""
                    ))
                })?,
                _ => return Err(bad("has no string `status`".into())),
            };
            let message = match &item["message"] {
                Value::String(s) if !s.trim().is_empty() => s.to_string(),
                _ => return Err(bad("has no `message`".into())),
            };
            let discriminator = match &item["discriminator"] {
                Value::String(s) => s.to_string(),
                Value::Undefined | Value::Null => String::new(),
                other => other.to_string(),
            };
            let variant = match &item["variant"] {
                Value::String(s) => Some(s.to_string()),
                _ => None,
            };
            let evidence = match &item["evidence"] {
                Value::Undefined | Value::Null => None,
                v => serde_json::to_string(v).ok().and_then(Evidence::from_json),
            };
            out.push(Finding {
                rule_id: rule.metadata.id.clone(),
                severity,
                status,
                fingerprint: Finding::fingerprint_of(
                    &rule.metadata.id,
                    &resource.id,
                    &discriminator,
                ),
                resource: resource.clone(),
                discriminator,
                message: message.into(),
                variant,
                evidence,
                waiver: None,
                baseline_state: None,
                failing_before: false,
                fix: None,
            });
        }
        let mine = &out[before..];
        if mine.is_empty() {
            out.push(Finding {
                rule_id: rule.metadata.id.clone(),
                severity,
                status: Status::NotEvaluable,
                fingerprint: Finding::fingerprint_of(&rule.metadata.id, &resource.id, ""),
                resource: resource.clone(),
                discriminator: String::new(),
                message: "the rule gave no verdict for this resource (its `results` is empty), so it is not reported as passing".into(),
                variant: None,
                evidence: None,
                waiver: None,
                baseline_state: None,
            failing_before: false,
                fix: None,
            });
        } else if mine.iter().any(|f| f.status == Status::Pass)
            && mine.iter().any(|f| f.status != Status::Pass)
        {
            return Err(bad(
                "mixes `pass` with other verdicts; a rule passes a resource only when nothing else is reported".into(),
            ));
        }
        Ok(())
    }
}

/// By rule, resource id (ignoring ASCII case, as Azure does) and
/// discriminator. There may be 10⁵ findings or more, each a large value:
/// the keys are computed once and sorted with the findings' positions
/// (rayon), so each finding moves once (210,000 findings: 478 ms with
/// `sort_by` comparing case-folded ids, see benches/README.md).
fn sort_findings(findings: &mut [Finding]) {
    // Ranks stand in for the strings: one per distinct rule and per distinct
    // resource id (ASCII case ignored), so the sort moves 12-byte entries and
    // compares integers; a copy of each finding's strings as its key cost
    // about 400 MB at 2 million findings (100,000 vaults at the limits).
    let rule_rank = ranks(
        findings
            .iter()
            .map(|f| (f.rule_id.as_str(), f.rule_id.as_str())),
        str::to_string,
    );
    let resource_rank = ranks(
        findings
            .iter()
            .map(|f| (Arc::as_ptr(&f.resource) as usize, &*f.resource)),
        |r: &Resource| r.id.to_ascii_lowercase(),
    );
    let mut order: Vec<(u32, u32, u32)> = findings
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            (
                rule_rank[f.rule_id.as_str()],
                resource_rank[&(Arc::as_ptr(&f.resource) as usize)],
                i as u32,
            )
        })
        .collect();
    order.par_sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| {
                findings[a.2 as usize]
                    .discriminator
                    .cmp(&findings[b.2 as usize].discriminator)
            })
            // Ties keep their order, as a stable sort would.
            .then(a.2.cmp(&b.2))
    });
    permute(
        findings,
        order.into_iter().map(|(_, _, i)| i as usize).collect(),
    );
}

/// The rank of each distinct key among `items`, by the name `name` gives
/// its first item (equal names, equal ranks).
fn ranks<K: std::hash::Hash + Eq, V: Copy>(
    items: impl Iterator<Item = (K, V)>,
    name: impl Fn(V) -> String,
) -> std::collections::HashMap<K, u32> {
    let mut distinct: std::collections::HashMap<K, V> = std::collections::HashMap::new();
    for (k, v) in items {
        distinct.entry(k).or_insert(v);
    }
    let mut sorted: Vec<(String, K)> = distinct.into_iter().map(|(k, v)| (name(v), k)).collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut out = std::collections::HashMap::with_capacity(sorted.len());
    let mut rank = 0u32;
    let mut previous: Option<String> = None;
    for (n, k) in sorted {
        if previous.as_ref().is_some_and(|p| *p != n) {
            rank += 1;
        }
        out.insert(k, rank);
        previous = Some(n);
    }
    out
}

/// Reorders `items` so that position `k` holds what was at `order[k]`
/// (`order` a permutation), in place: each cycle is followed once.
fn permute<T>(items: &mut [T], order: Vec<usize>) {
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        let mut k = start;
        loop {
            done[k] = true;
            let from = order[k];
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

/// Builtins that would reach the network in OPA. regorus is built without
/// them (no `http` feature), so a call could only fail at evaluation; refuse
/// such a policy when it is loaded, with a message that says why.
const NETWORK_BUILTINS: &[&str] = &["http.send", "net.lookup_ip_addr", "opa.runtime"];

pub fn forbid_network(f: &PolicyFile) -> Result<(), Error> {
    for (n, line) in f.text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("");
        if let Some(b) = NETWORK_BUILTINS
            .iter()
            .find(|b| code.contains(&format!("{b}(")))
        {
            let col = code.find(b).unwrap_or(0) + 1;
            return Err(Error::Rego(format!(
                "{}:{}:{}: `{b}` is not available: kvaudit policies cannot reach the network or the runtime; put what the policy needs in the inventory or in --data",
                f.path,
                n + 1,
                col
            )));
        }
    }
    Ok(())
}

/// Vaults per worker task: enough tasks to balance the cores.
fn chunk_size(vaults: usize) -> usize {
    let tasks = rayon::current_num_threads().max(1) * 16;
    vaults.div_ceil(tasks).clamp(16, 1024)
}

/// What [`PolicySet::prepare`] gives [`PolicySet::evaluate_vaults`].
struct Prepared {
    started: std::time::Instant,
    builder: InputBuilder,
    base: Engine,
    findings: Vec<Finding>,
}

/// The vaults to judge: kept as they are, or released one by one once
/// judged.
enum Vaults<'a> {
    Kept(&'a [VaultInventory]),
    Released(&'a mut [VaultInventory]),
}

/// What [`PolicySet::evaluate_resource`] runs: the rules, their keys in the
/// aggregate's result, and the aggregate's path; and, when some rules
/// declare `memo_key`, how those are run instead.
struct Plan<'a> {
    rules: &'a [&'a Rule],
    keys: Vec<Value>,
    aggregate: &'a str,
    memo: Option<Memo<'a>>,
}

/// The rules that declare `memo_key`, their keys' aggregate, the plan of
/// the other rules, and the results computed so far per (rule, key), shared
/// by the worker threads.
struct Memo<'a> {
    rules: &'a [&'a Rule],
    ids: Vec<Value>,
    keys_path: &'a str,
    rest: Box<Plan<'a>>,
    cache: std::sync::Mutex<MemoCache>,
}

/// The findings of a memoised rule (by its position) for a key, collected
/// on the first resource with that key.
type MemoCache = BTreeMap<(usize, Value), Arc<Vec<Finding>>>;

/// Each rule's id as the key of its entry in an aggregate's result.
fn rule_keys(rules: &[&Rule]) -> Vec<Value> {
    rules
        .iter()
        .map(|r| Value::from(r.metadata.id.as_str()))
        .collect()
}

/// Adds the generated package `package`, whose `results[id]` is the value
/// of each entry's path (a variable key keeps it one partial-object rule; an
/// entry whose value is undefined has no key). Nothing for no entries.
fn add_aggregate(
    engine: &mut Engine,
    package: &str,
    name: &str,
    entries: &[(&Rule, &str)],
) -> Result<(), Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut text = format!("package {package}\n\n");
    for (rule, path) in entries {
        text.push_str(&format!(
            "results[id] := r if {{\n\tid := {}\n\tr := {path}\n}}\n\n",
            serde_json::Value::String(rule.metadata.id.clone()),
        ));
    }
    engine
        .add_policy(format!("<kvaudit>/{name}-aggregate.rego"), text)
        .map_err(|e| rego_error(&e))?;
    Ok(())
}

/// One warning per rule whose evaluation failed somewhere, with the count
/// and the first message: the findings carry every one.
fn report_errors(findings: &[Finding]) {
    let mut by_rule: BTreeMap<&str, (usize, &Finding)> = BTreeMap::new();
    for f in findings.iter().filter(|f| {
        f.status == Status::NotEvaluable
            && f.evidence
                .as_ref()
                .is_some_and(|e| e.text().starts_with("{\"evaluationError\""))
    }) {
        by_rule.entry(f.rule_id.as_str()).or_insert((0, f)).0 += 1;
    }
    for (rule, (n, first)) in by_rule {
        tracing::warn!(
            "{rule}: evaluation failed on {n} resource(s), reported not evaluable; first on {}: {}",
            first.resource.name,
            first.message
        );
    }
}

fn trim_data(package: &str) -> String {
    package.strip_prefix("data.").unwrap_or(package).to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{permute, rego_error_line, sort_findings};
    use crate::finding::{Finding, Resource, Severity, Status};

    fn finding(rule: &str, resource: &Arc<Resource>, discriminator: &str, n: usize) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity: Severity::Low,
            status: Status::Pass,
            resource: resource.clone(),
            discriminator: discriminator.into(),
            message: n.to_string().into(),
            variant: None,
            evidence: None,
            fingerprint: Default::default(),
            waiver: None,
            baseline_state: None,
            failing_before: false,
            fix: None,
        }
    }

    /// The order of the previous sort (a stable sort on the rule id, the
    /// lower-case resource id and the discriminator, all copied per
    /// finding), on resources whose ids differ only in case, shared and
    /// separate `Arc`s, and equal keys.
    #[test]
    fn findings_sort_by_rule_resource_and_discriminator_stably() {
        let resource = |id: &str| {
            Arc::new(Resource {
                id: id.into(),
                kind: "Microsoft.KeyVault/vaults".into(),
                name: id.rsplit('/').next().unwrap().into(),
                subscription_id: "s".into(),
                source: None,
            })
        };
        let ids = [
            "/s/rg/kv-B",
            "/s/rg/kv-a",
            "/s/RG/KV-A",
            "/s/rg/kv-b",
            "/s/rg/kv-c",
        ];
        let resources: Vec<Arc<Resource>> = ids.iter().map(|i| resource(i)).collect();
        let mut findings = Vec::new();
        let mut n = 0;
        for round in 0..3 {
            for rule in ["kv/z", "kv/a", "kv/m"] {
                for (i, r) in resources.iter().enumerate().rev() {
                    for d in ["", "10.0.0.2", "10.0.0.1"] {
                        if (i + round) % 2 == 0 || d.is_empty() {
                            findings.push(finding(rule, r, d, n));
                            n += 1;
                        }
                    }
                }
            }
        }
        let mut expected = findings.clone();
        expected.sort_by_cached_key(|f| {
            (
                f.rule_id.clone(),
                f.resource.id.to_ascii_lowercase(),
                f.discriminator.clone(),
            )
        });
        sort_findings(&mut findings);
        let order = |fs: &[Finding]| fs.iter().map(|f| f.message.clone()).collect::<Vec<_>>();
        assert_eq!(order(&findings), order(&expected));
    }

    #[test]
    fn permute_follows_every_cycle() {
        let mut items: Vec<char> = "abcdefg".chars().collect();
        // Cycles (0 3 5), (1 6), (2), (4).
        permute(&mut items, vec![3, 6, 2, 5, 4, 0, 1]);
        assert_eq!(items.iter().collect::<String>(), "dgcfeab");
        let mut none: Vec<u8> = Vec::new();
        permute(&mut none, Vec::new());
        assert!(none.is_empty());
    }

    #[test]
    fn regorus_errors_become_one_line() {
        let text =
            "\n--> bad/x.rego:4:1\n  |\n4 | results contains r if {\n  | ^\nerror: expecting `}`";
        assert_eq!(rego_error_line(text), "bad/x.rego:4:1: expecting `}`");
        assert_eq!(rego_error_line("plain failure"), "plain failure");
    }
}
