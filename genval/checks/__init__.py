"""Stage 5, checks: is a bitmap a valid member of the set?

Structural checks (:class:`CheckSet`: rule files, the emoji check), a classifier
check, rule-free membership metrics (precision, recall, density, coverage) and
the null model each check is measured against.
"""

from genval._utils.lazy import lazy_exports

_EXPORTS = {
    "ClassifierCheck": "._classifier",
    "DEFAULT_THRESHOLD": "._classifier",
    "MAX_FIT_ITEMS": "._classifier",
    "knn_radii": "._membership",
    "membership_metrics": "._membership",
    "MembershipMetrics": "._membership",
    "nearest_distance": "._membership",
    "realism": "._membership",
    "NOISE_WARNING": "._nullmodel",
    "null_model": "._nullmodel",
    "NULL_SOURCES": "._nullmodel",
    "NullModel": "._nullmodel",
    "bundled_rules": "._rules",
    "default_checks": "._rules",
    "load_rules": "._rules",
    "MAX_RULE_FILE_BYTES": "._rules",
    "MAX_RULES": "._rules",
    "parse_rules": "._rules",
    "RuleFileError": "._rules",
    "MAX_REACH": "._rule_regions",
    "Rule": "._rule_regions",
    "check_emoji": "._validity",
    "CheckResult": "._validity",
    "CheckSet": "._validity",
    "GENERIC_CHECKS": "._validity",
    "Verdict": "._validity",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
