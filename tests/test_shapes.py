"""The SHACL shapes (ontology/shapes.ttl): a good example conforms, every broken example is
rejected for the right reason, every class and every shape is covered, and the real graph conforms.

Validation goes through `kzgraph.validate.shacl_violations`, without inference. As in the pipeline
(`kzgraph.build.read`), files are parsed with `kzgraph.loader.parse_turtle` (which keeps lexical forms,
so "…Z" stays "…Z") and the ontology is merged into the data graph: pySHACL's ``ont_graph`` only copies
OWL/RDFS axioms, not the code-list individuals such as ``kzo:Percent a kzo:Unit`` that ``sh:class``
checks need.

Each broken example in ``tests/data/shapes/<Shape>-<case>.ttl`` rewrites one node of ``good.ttl`` (or
adds one node): the test removes every node the file describes from the good graph, adds the file, and
expects violations on the expected focus node only, one of them with the expected message, reported
by the named shape or one of its property shapes.
"""
from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, BNode
from rdflib.namespace import SH, SKOS

from kzgraph import paths
from kzgraph.loader import parse_turtle
from kzgraph.validate import Violation, shacl_violations

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "shapes"
KZO = "https://w3id.org/kzgraph/ontology#"
KZ = "https://w3id.org/kzgraph/id/"
KZSH = rdflib.Namespace("https://w3id.org/kzgraph/shapes#")

# (shape, broken example file, expected focus node, phrase the violation message must contain)
CASES = [
    ('AgentShape', 'AgentShape-missing-label.ttl', 'kz:kcell',
     'Every node needs an English name'),
    ('AgentShape', 'AgentShape-label-not-english.ttl', 'kz:kcell',
     'English text literal tagged @en'),
    ('AgentShape', 'AgentShape-label-untagged.ttl', 'kz:kcell',
     'English text literal tagged @en'),
    ('AgentShape', 'AgentShape-two-labels.ttl', 'kz:kcell',
     'exactly one rdfs:label'),
    ('AgentShape', 'AgentShape-altlabel-untagged.ttl', 'kz:kazakhtelecom',
     'alternative name (skos:altLabel)'),
    ('AgentShape', 'AgentShape-altlabel-iri.ttl', 'kz:kazakhtelecom',
     'alternative name (skos:altLabel)'),
    ('AgentShape', 'AgentShape-comment-untagged.ttl', 'kz:kazakhtelecom',
     'description (rdfs:comment)'),
    ('AgentShape', 'AgentShape-source-is-document.ttl', 'kz:kcell',
     'must point to a kzo:SourceSection'),
    ('AgentShape', 'AgentShape-country-is-city.ttl', 'kz:kcell',
     'kzo:country must be a kzo:Country (for example'),
    ('AgentShape', 'AgentShape-only-agent.ttl', 'kz:unnamed-agent',
     'An agent must be typed as a kzo:Organisation'),
    ('ProvenanceShape', 'ProvenanceShape-fact-without-source.ttl', 'kz:stake-kazakhtelecom-kcell',
     'must cite at least one source section'),
    ('ProvenanceShape', 'ProvenanceShape-concept-without-source.ttl', 'kz:cat-not-free',
     'must cite at least one source section'),
    ('ProvenanceShape', 'ProvenanceShape-scheme-without-source.ttl', 'kz:scheme-test',
     'must cite at least one source section'),
    ('IdentifierShape', 'IdentifierShape-upper-case-name.ttl', 'kz:Example-Company',
     'must be named kz:<name>'),
    ('IdentifierShape', 'IdentifierShape-other-namespace.ttl', '<http://example.org/company>',
     'must be named kz:<name>'),
    ('IdentifierShape', 'IdentifierShape-blank-node.ttl', '[blank node]',
     'Blank nodes and other namespaces are not allowed'),
    ('IdentifierShape', 'IdentifierShape-underscore.ttl', 'kz:example_company',
     'flat, lower-case, hyphenated ASCII name'),
    ('FactShape', 'FactShape-no-time.ttl', 'kz:mandate-aic-licensing',
     'A fact must say when it held'),
    ('FactShape', 'FactShape-plain-fact-no-time.ttl', 'kz:fact-kazakhtelecom-dominance',
     'A fact must say when it held'),
    ('FactShape', 'FactShape-reported-by-concept.ttl', 'kz:obs-freedom-rating-2021',
     'kzo:reportedBy must name the agent'),
    ('FactShape', 'FactShape-temporal-note-untagged.ttl', 'kz:stake-government-kazakhtelecom-partial',
     'temporal note (kzo:temporalNote)'),
    ('FactShape', 'FactShape-conflicts-with-event.ttl', 'kz:fact-kazakhtelecom-dominance',
     'A fact can only conflict with another fact'),
    ('ConflictShape', 'ConflictShape-one-way.ttl', 'kz:obs-internet-users-2005-a',
     'must be stated in both directions'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-share-149.ttl', 'kz:stake-kazakhtelecom-kcell',
     'between 0 and 100 percent'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-share-negative.ttl', 'kz:stake-kazakhtelecom-kcell',
     'between 0 and 100 percent'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-share-string.ttl', 'kz:stake-kazakhtelecom-kcell',
     'given once as an xsd:decimal'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-share-integer.ttl', 'kz:stake-kazakhtelecom-kcell',
     'given once as an xsd:decimal'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-two-shares.ttl', 'kz:stake-kazakhtelecom-kcell',
     'given once as an xsd:decimal'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-no-owner.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:owner'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-owner-concept.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:owner'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-two-owners.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:owner'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-owns-itself.ttl', 'kz:stake-kazakhtelecom-kcell',
     'cannot hold a stake in itself'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-no-owned-entity.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:ownedEntity'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-owned-person.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:ownedEntity'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-no-size.ttl', 'kz:stake-kazakhtelecom-kcell',
     'needs its size'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-share-and-bounds.ttl', 'kz:stake-kazakhtelecom-kcell',
     'not both'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-min-above-max.ttl', 'kz:stake-government-kazakhtelecom-partial',
     'cannot be larger than the maximum share'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-min-negative.ttl', 'kz:stake-government-kazakhtelecom-partial',
     'minimum ownership share (kzo:shareMin)'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-max-over-100.ttl', 'kz:stake-government-kazakhtelecom-partial',
     'maximum ownership share (kzo:shareMax)'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-bounds-exclusive-string.ttl', 'kz:stake-government-kazakhtelecom-partial',
     'single xsd:boolean'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-no-stake-kind.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:stakeKind'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-stake-kind-not-code.ttl', 'kz:stake-kazakhtelecom-kcell',
     'exactly one kzo:stakeKind'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-closed-extra-property.ttl', 'kz:stake-kazakhtelecom-kcell',
     'An ownership stake may only use'),
    ('OwnershipStakeShape', 'OwnershipStakeShape-two-as-of.ttl', 'kz:stake-kazakhtelecom-kcell',
     'at most one kzo:asOf'),
    ('ObservationSignShape', 'ObservationSignShape-negative-count.ttl', 'kz:obs-internet-users-2009',
     'cannot be negative'),
    ('ObservationSignShape', 'ObservationSignShape-negative-range.ttl', 'kz:obs-hashrate-fall-2022-01',
     'cannot be negative'),
    ('ObservationPercentShape', 'ObservationPercentShape-percent-over-100.ttl', 'kz:obs-internet-penetration-2010',
     'cannot be over 100'),
    ('ObservationPercentShape', 'ObservationPercentShape-range-over-100.ttl', 'kz:obs-hashrate-fall-2022-01',
     'cannot be over 100'),
    ('ObservationUnitShape', 'ObservationUnitShape-number-without-unit.ttl', 'kz:obs-internet-users-2009',
     'needs a kzo:unit'),
    ('ObservationUnitShape', 'ObservationUnitShape-range-without-unit.ttl', 'kz:obs-hashrate-fall-2022-01',
     'needs a kzo:unit'),
    ('ObservationShape', 'ObservationShape-no-measure.ttl', 'kz:obs-internet-users-2009',
     'exactly one kzo:measure'),
    ('ObservationShape', 'ObservationShape-measure-not-measure.ttl', 'kz:obs-internet-users-2009',
     'exactly one kzo:measure'),
    ('ObservationShape', 'ObservationShape-no-series.ttl', 'kz:obs-internet-users-2009',
     'exactly one kzo:series'),
    ('ObservationShape', 'ObservationShape-no-area.ttl', 'kz:obs-internet-users-2009',
     'exactly one kzo:refArea'),
    ('ObservationShape', 'ObservationShape-area-not-place.ttl', 'kz:obs-internet-users-2009',
     'exactly one kzo:refArea'),
    ('ObservationShape', 'ObservationShape-two-units.ttl', 'kz:obs-internet-users-2009',
     'at most one kzo:unit'),
    ('ObservationShape', 'ObservationShape-unit-not-unit.ttl', 'kz:obs-internet-users-2009',
     'at most one kzo:unit'),
    ('ObservationShape', 'ObservationShape-value-string.ttl', 'kz:obs-internet-users-2009',
     'kzo:value is a single xsd:decimal'),
    ('ObservationShape', 'ObservationShape-two-values.ttl', 'kz:obs-internet-users-2009',
     'kzo:value is a single xsd:decimal'),
    ('ObservationShape', 'ObservationShape-value-min-string.ttl', 'kz:obs-hashrate-fall-2022-01',
     'kzo:valueMin is a single'),
    ('ObservationShape', 'ObservationShape-value-max-string.ttl', 'kz:obs-hashrate-fall-2022-01',
     'kzo:valueMax is a single'),
    ('ObservationShape', 'ObservationShape-min-above-max.ttl', 'kz:obs-hashrate-fall-2022-01',
     'lower end of a range'),
    ('ObservationShape', 'ObservationShape-categorical-not-category.ttl', 'kz:obs-freedom-rating-2021',
     'kzo:categoricalValue is a single kzo:Category'),
    ('ObservationShape', 'ObservationShape-no-status.ttl', 'kz:obs-internet-users-2009',
     'exactly one kzo:observationStatus'),
    ('ObservationShape', 'ObservationShape-qualifier-not-qualifier.ttl', 'kz:obs-internet-users-2009',
     'kzo:valueQualifier is optional and single'),
    ('ObservationShape', 'ObservationShape-breakdown-literal.ttl', 'kz:obs-phishing-change-2025',
     'kzo:breakdown must be a concept'),
    ('ObservationShape', 'ObservationShape-subject-literal.ttl', 'kz:obs-hashrate-fall-2022-01',
     'kzo:subject must be a node'),
    ('ObservationShape', 'ObservationShape-compared-to-iri.ttl', 'kz:obs-phishing-change-2025',
     'kzo:comparedTo is a literal'),
    ('ObservationShape', 'ObservationShape-no-value.ttl', 'kz:obs-freedom-rating-2021',
     'An observation needs a value'),
    ('ObservationShape', 'ObservationShape-closed-extra-property.ttl', 'kz:obs-internet-users-2009',
     'An observation may only use'),
    ('MandateShape', 'MandateShape-no-holder.ttl', 'kz:mandate-aic-licensing',
     'A mandate needs kzo:heldBy'),
    ('MandateShape', 'MandateShape-power-type-not-code.ttl', 'kz:mandate-aic-licensing',
     'at least one kzo:powerType'),
    ('ServiceOfferingShape', 'ServiceOfferingShape-no-provider.ttl', 'kz:offer-kazakhtelecom-internet',
     'needs a kzo:provider'),
    ('ServiceOfferingShape', 'ServiceOfferingShape-provider-concept.ttl', 'kz:offer-kazakhtelecom-internet',
     'needs a kzo:provider'),
    ('ServiceOfferingShape', 'ServiceOfferingShape-nothing-offered.ttl', 'kz:offer-kazakhtelecom-internet',
     'must say what is offered'),
    ('ServiceOfferingShape', 'ServiceOfferingShape-service-type-wrong.ttl', 'kz:offer-kazakhtelecom-internet',
     'kzo:serviceType must be a kzo:ServiceType'),
    ('ServiceOfferingShape', 'ServiceOfferingShape-technology-wrong.ttl', 'kz:offer-kazakhtelecom-internet',
     'kzo:technology must be a kzo:Technology'),
    ('LicenceShape', 'LicenceShape-no-holder.ttl', 'kz:licence-kcell-4g',
     'A licence needs kzo:heldBy'),
    ('LicenceShape', 'LicenceShape-issuer-concept.ttl', 'kz:licence-kcell-4g',
     'kzo:issuedBy of a licence'),
    ('LicenceShape', 'LicenceShape-service-type-wrong.ttl', 'kz:licence-kcell-4g',
     'kzo:serviceType of a licence'),
    ('LicenceShape', 'LicenceShape-technology-wrong.ttl', 'kz:licence-kcell-4g',
     'kzo:technology of a licence'),
    ('AgreementShape', 'AgreementShape-one-party.ttl', 'kz:agreement-filtering',
     'at least two kzo:party'),
    ('AgreementShape', 'AgreementShape-party-is-place.ttl', 'kz:agreement-filtering',
     'at least two kzo:party'),
    ('PenaltyShape', 'PenaltyShape-no-type.ttl', 'kz:penalty-false-information',
     'at least one kzo:penaltyType'),
    ('PenaltyShape', 'PenaltyShape-amount-negative.ttl', 'kz:penalty-false-information',
     'kzo:maxAmount is a single xsd:decimal'),
    ('PenaltyShape', 'PenaltyShape-amount-string.ttl', 'kz:penalty-false-information',
     'kzo:maxAmount is a single xsd:decimal'),
    ('PenaltyShape', 'PenaltyShape-amount-without-unit.ttl', 'kz:penalty-false-information',
     'needs a kzo:unit saying the currency'),
    ('PenaltyShape', 'PenaltyShape-unit-not-unit.ttl', 'kz:penalty-false-information',
     'a currency from the kzo:Unit code list'),
    ('PenaltyShape', 'PenaltyShape-term-not-duration.ttl', 'kz:penalty-false-information',
     'kzo:maxTerm is a single xsd:duration'),
    ('SourceShape', 'SourceShape-plain-source.ttl', 'kz:src-other',
     'must be typed kzo:SourceDocument'),
    ('SourceShape', 'SourceShape-two-titles.ttl', 'kz:src-doc-lead',
     'at most one dcterms:title'),
    ('SourceShape', 'SourceShape-missing-label.ttl', 'kz:src-doc-history',
     'Every node needs an English name'),
    ('SourceDocumentShape', 'SourceDocumentShape-bad-checksum.ttl', 'kz:src-doc',
     'exactly one kzo:sha256'),
    ('SourceDocumentShape', 'SourceDocumentShape-no-checksum.ttl', 'kz:src-doc',
     'exactly one kzo:sha256'),
    ('SourceDocumentShape', 'SourceDocumentShape-no-title.ttl', 'kz:src-doc',
     'needs its dcterms:title'),
    ('SourceDocumentShape', 'SourceDocumentShape-two-seed-files.ttl', 'kz:src-doc',
     'kzo:seedFile is a single plain string'),
    ('SourceDocumentShape', 'SourceDocumentShape-reports-until-string.ttl', 'kz:src-doc',
     'exactly one kzo:reportsUntil'),
    ('SourceSectionShape', 'SourceSectionShape-no-document.ttl', 'kz:src-doc-history',
     'dcterms:isPartOf exactly one kzo:SourceDocument'),
    ('SourceSectionShape', 'SourceSectionShape-part-of-section.ttl', 'kz:src-doc-history',
     'dcterms:isPartOf exactly one kzo:SourceDocument'),
    ('SourceSectionShape', 'SourceSectionShape-order-negative.ttl', 'kz:src-doc-history',
     'exactly one kzo:sectionOrder'),
    ('SourceSectionShape', 'SourceSectionShape-order-string.ttl', 'kz:src-doc-history',
     'exactly one kzo:sectionOrder'),
    ('SourceSectionShape', 'SourceSectionShape-two-paths.ttl', 'kz:src-doc-history',
     'kzo:sectionPath is a single plain string'),
    ('OrganisationShape', 'OrganisationShape-parent-not-organisation.ttl', 'kz:kazgu',
     'org:subOrganizationOf must point to the kzo:Organisation'),
    ('OrganisationShape', 'OrganisationShape-legal-form-iri.ttl', 'kz:kaitk',
     'kzo:legalForm is a text literal'),
    ('OrganisationShape', 'OrganisationShape-counterpart-country.ttl', 'kz:kazgu',
     'kzo:counterpartOf must point to an organisation'),
    ('PersonShape', 'PersonShape-also-organisation.ttl', 'kz:kassym-jomart-tokayev',
     'A person cannot also be an organisation'),
    ('CompanyShape', 'CompanyShape-brand-is-company.ttl', 'kz:mobile-telecom-service',
     'kzo:hasBrand must point to a kzo:Brand'),
    ('TelecomOperatorShape', 'TelecomOperatorShape-no-country.ttl', 'kz:transtelecom',
     'runs its network in a country'),
    ('FixedLineOperatorShape', 'FixedLineOperatorShape-redundant-type.ttl', 'kz:kazakhtelecom',
     'most specific class only'),
    ('MobileOperatorShape', 'MobileOperatorShape-redundant-type.ttl', 'kz:kcell',
     'most specific class only'),
    ('InternetServiceProviderShape', 'InternetServiceProviderShape-no-country.ttl', 'kz:example-isp',
     'sells access in a country'),
    ('FirstTierISPShape', 'FirstTierISPShape-redundant-type.ttl', 'kz:nursat',
     'most specific class only'),
    ('SecondTierISPShape', 'SecondTierISPShape-redundant-type.ttl', 'kz:sekatel',
     'most specific class only'),
    ('MiningPoolShape', 'MiningPoolShape-also-operator.ttl', 'kz:antpool',
     'not a telecommunications operator'),
    ('BroadcasterShape', 'BroadcasterShape-operator-concept.ttl', 'kz:khabar-tv',
     'kzo:operatedBy of a broadcaster'),
    ('BankShape', 'BankShape-no-country.ttl', 'kz:kaspi-bank',
     'A bank is licensed in a country'),
    ('MediaOrganisationShape', 'MediaOrganisationShape-state-body.ttl', 'kz:reuters',
     'is not a state body'),
    ('ResearchOrganisationShape', 'ResearchOrganisationShape-state-body.ttl', 'kz:freedom-house',
     'is not a state body'),
    ('AssociationShape', 'AssociationShape-company.ttl', 'kz:kaitk',
     'An association (NGO) is not a company'),
    ('DomainRegistryShape', 'DomainRegistryShape-no-country.ttl', 'kz:kaznic',
     'administers a country-code domain'),
    ('InternationalOrganisationShape', 'InternationalOrganisationShape-state-body.ttl', 'kz:itu',
     'cannot also be a kzo:StateBody'),
    ('StateBodyShape', 'StateBodyShape-company.ttl', 'kz:president-of-kazakhstan',
     'A state body is not a company'),
    ('StateBodyShape', 'StateBodyShape-two-countries.ttl', 'kz:president-of-kazakhstan',
     'at most one kzo:country'),
    ('GovernmentShape', 'GovernmentShape-no-country.ttl', 'kz:government-of-kazakhstan',
     'A government is the executive of a country'),
    ('MinistryShape', 'MinistryShape-parent-not-government.ttl', 'kz:ministry-of-communications',
     'A ministry can only be part of a government'),
    ('AgencyShape', 'AgencyShape-parent-company.ttl', 'kz:agency-for-informatization',
     'An agency can only be part of another state body'),
    ('CouncilShape', 'CouncilShape-chair-concept.ttl', 'kz:security-council',
     'kzo:chairedBy of a council'),
    ('CommitteeShape', 'CommitteeShape-chair-concept.ttl', 'kz:national-security-committee',
     'kzo:chairedBy of a committee'),
    ('CommissionShape', 'CommissionShape-chair-place.ttl', 'kz:inter-departmental-commission',
     'kzo:chairedBy of a commission'),
    ('DepartmentShape', 'DepartmentShape-parent-company.ttl', 'kz:department-k',
     'A department is a unit of a state body'),
    ('RegulatorShape', 'RegulatorShape-no-country.ttl', 'kz:ministry-of-communications',
     'A regulator supervises the sector of one country'),
    ('SecurityBodyShape', 'SecurityBodyShape-no-country.ttl', 'kz:national-security-committee',
     'A security body protects one state'),
    ('PlaceShape', 'PlaceShape-only-place.ttl', 'kz:somewhere',
     'A place must be typed kzo:Country, kzo:City or kzo:Region'),
    ('PlaceShape', 'PlaceShape-located-in-company.ttl', 'kz:almaty',
     'must point to the larger kzo:Place'),
    ('PlaceShape', 'PlaceShape-country-is-city.ttl', 'kz:almaty',
     'kzo:country must be a kzo:Country.'),
    ('CountryShape', 'CountryShape-in-city.ttl', 'kz:kazakhstan',
     'A country can only lie in a world region'),
    ('CityShape', 'CityShape-not-located.ttl', 'kz:almaty',
     'A city needs kzo:locatedIn'),
    ('RegionShape', 'RegionShape-in-country.ttl', 'kz:central-asia',
     'can only lie in another kzo:Region'),
    ('BrandShape', 'BrandShape-no-company.ttl', 'kz:tele2-brand',
     'exactly one kzo:brandOf'),
    ('BrandShape', 'BrandShape-brand-of-non-company.ttl', 'kz:tele2-brand',
     'exactly one kzo:brandOf'),
    ('BrandShape', 'BrandShape-namesake-concept.ttl', 'kz:tele2-brand',
     'kzo:namesakeOf links a brand'),
    ('BrandShape', 'BrandShape-missing-label.ttl', 'kz:tele2-brand',
     'Every node needs an English name'),
    ('InfrastructureShape', 'InfrastructureShape-operator-concept.ttl', 'kz:dama-network',
     'kzo:operatedBy of a network'),
    ('InfrastructureShape', 'InfrastructureShape-technology-wrong.ttl', 'kz:dama-network',
     'kzo:technology of a network'),
    ('InfrastructureShape', 'InfrastructureShape-service-type-wrong.ttl', 'kz:dama-network',
     'kzo:serviceType of a network'),
    ('InfrastructureShape', 'InfrastructureShape-country-is-city.ttl', 'kz:dama-network',
     'kzo:country of a network'),
    ('SurveillanceSystemShape', 'SurveillanceSystemShape-operator-concept.ttl', 'kz:sorm',
     'kzo:operatedBy of a surveillance system'),
    ('SurveillanceSystemShape', 'SurveillanceSystemShape-country-is-city.ttl', 'kz:sorm',
     'kzo:country of a surveillance system'),
    ('SurveillanceSystemShape', 'SurveillanceSystemShape-reported-by-concept.ttl', 'kz:sorm',
     'kzo:reportedBy must name the agent'),
    ('OnlineServiceShape', 'OnlineServiceShape-operator-concept.ttl', 'kz:google-kz',
     'kzo:operatedBy of an online service'),
    ('StatisticalSeriesShape', 'StatisticalSeriesShape-no-structure.ttl', 'kz:series-internet-users',
     'exactly one qb:structure'),
    ('StatisticalSeriesShape', 'StatisticalSeriesShape-other-structure.ttl', 'kz:series-internet-users',
     'uses the shared structure'),
    ('PolicyShape', 'PolicyShape-no-time.ttl', 'kz:policy-strategy-2030',
     'A policy must say when it held'),
    ('PolicyShape', 'PolicyShape-issuer-concept.ttl', 'kz:policy-strategy-2030',
     'kzo:issuedBy of a policy'),
    ('LegalActShape', 'LegalActShape-no-time.ttl', 'kz:law-communications',
     'A legal act must say when it held'),
    ('LegalActShape', 'LegalActShape-plain-act-no-time.ttl', 'kz:law-ict-legislation',
     'A legal act must say when it held'),
    ('LegalActShape', 'LegalActShape-issuer-concept.ttl', 'kz:law-communications',
     'kzo:issuedBy of a legal act'),
    ('LegalActShape', 'LegalActShape-two-statuses.ttl', 'kz:law-kz-server-order-2011',
     'at most one kzo:legalStatus: kzo:Draft'),
    ('LegalActShape', 'LegalActShape-status-not-code.ttl', 'kz:law-kz-server-order-2011',
     'at most one kzo:legalStatus: kzo:Draft'),
    ('LegalActShape', 'LegalActShape-penalty-not-penalty.ttl', 'kz:law-false-information-offence',
     'kzo:penalty must point to a kzo:Penalty'),
    ('LegalActShape', 'LegalActShape-relaxes-event.ttl', 'kz:law-kz-server-guidance-2011',
     'kzo:relaxes must point to the earlier kzo:LegalAct'),
    ('LegalActShape', 'LegalActShape-part-of-organisation.ttl', 'kz:law-ict-legislation',
     'kzo:partOfAct must point to the kzo:LegalAct'),
    ('LegalActShape', 'LegalActShape-requires-iri.ttl', 'kz:law-kz-server-order-2011',
     'kzo:requires is a string literal'),
    ('LegalActShape', 'LegalActShape-prohibits-number.ttl', 'kz:law-false-information-offence',
     'kzo:prohibits is a string literal'),
    ('LegalActShape', 'LegalActShape-applies-to-domain.ttl', 'kz:law-communications',
     'kzo:appliesTo must name an agent or a kzo:ActorGroup'),
    ('LegalActShape', 'LegalActShape-enforcer-concept.ttl', 'kz:law-communications',
     'kzo:enforcedBy must be the agent'),
    ('LegalActShape', 'LegalActShape-data-item-wrong.ttl', 'kz:law-monitoring-rules-2004',
     'kzo:recordedDataItem must be a kzo:DataItem'),
    ('LegalActShape', 'LegalActShape-prompted-by-law.ttl', 'kz:law-false-information-offence',
     'kzo:promptedBy must point to the kzo:Event'),
    ('LegalActShape', 'LegalActShape-invoked-in-person.ttl', 'kz:law-false-information-offence',
     'kzo:invokedIn must point to a kzo:Event'),
    ('LegalActShape', 'LegalActShape-two-adoption-dates.ttl', 'kz:law-communications',
     'at most one kzo:adoptedOn'),
    ('LegalActShape', 'LegalActShape-two-in-force-dates.ttl', 'kz:criminal-code',
     'at most one kzo:inForceFrom'),
    ('LawShape', 'LawShape-draft-status.ttl', 'kz:law-communications',
     'must be typed kzo:DraftLaw instead'),
    ('CodeShape', 'CodeShape-part-of-act.ttl', 'kz:criminal-code',
     'is not part of another act'),
    ('CodeProvisionShape', 'CodeProvisionShape-no-code.ttl', 'kz:law-false-information-offence',
     'which code it belongs to'),
    ('CodeProvisionShape', 'CodeProvisionShape-part-of-law.ttl', 'kz:law-false-information-offence',
     'which code it belongs to'),
    ('RulesShape', 'RulesShape-issued-by-company.ttl', 'kz:law-monitoring-rules-2004',
     'Rules are approved by an executive body'),
    ('DecisionShape', 'DecisionShape-issued-by-person.ttl', 'kz:law-sc-internet-ban-2005',
     'A decision is taken by a collegial body'),
    ('OrderShape', 'OrderShape-issued-by-company.ttl', 'kz:law-kz-server-order-2011',
     'An order is imposed by an authority'),
    ('DraftLawShape', 'DraftLawShape-in-force.ttl', 'kz:law-draft-blog-liability',
     'A draft law must have kzo:legalStatus kzo:Draft'),
    ('DraftLawShape', 'DraftLawShape-no-status.ttl', 'kz:law-draft-blog-liability',
     'A draft law must have kzo:legalStatus kzo:Draft'),
    ('LegalRequirementShape', 'LegalRequirementShape-no-obligation.ttl', 'kz:law-isp-content-requirement',
     'must state the obligation in words'),
    ('EventShape', 'EventShape-no-time.ttl', 'kz:event-officials-circumvent-ban',
     'An event must say when it happened'),
    ('EventShape', 'EventShape-part-of-law.ttl', 'kz:event-messaging-blocking-2022-01-06',
     'can only be kzo:partOf another kzo:Event'),
    ('EventShape', 'EventShape-has-part-company.ttl', 'kz:event-shutdown-2022-01',
     'kzo:hasPart must point to a kzo:Event'),
    ('EventShape', 'EventShape-trigger-place.ttl', 'kz:event-shutdown-2022-01',
     'kzo:trigger must point to the kzo:Event'),
    ('EventShape', 'EventShape-scope-not-code.ttl', 'kz:event-throttling-2018',
     'kzo:scope must be one of the kzo:Scope codes'),
    ('EventShape', 'EventShape-location-company.ttl', 'kz:event-bank-run-2014',
     'kzo:location must be a kzo:Place'),
    ('EventShape', 'EventShape-ordered-by-concept.ttl', 'kz:event-throttling-2018',
     'kzo:orderedBy must be the agent'),
    ('EventShape', 'EventShape-participant-group.ttl', 'kz:event-iptv-launch-2009',
     'kzo:participant must be an agent'),
    ('EventShape', 'EventShape-affected-operator-concept.ttl', 'kz:event-shutdown-2022-01',
     'kzo:affectedOperator must be a kzo:Organisation'),
    ('EventShape', 'EventShape-affected-service-company.ttl', 'kz:event-throttling-2018',
     'kzo:affectedService must be a kzo:ServiceType'),
    ('EventShape', 'EventShape-technology-wrong.ttl', 'kz:event-iptv-launch-2009',
     'kzo:technology of an event'),
    ('EventShape', 'EventShape-service-type-wrong.ttl', 'kz:event-iptv-launch-2009',
     'kzo:serviceType of an event'),
    ('EventShape', 'EventShape-legal-status-not-code.ttl', 'kz:event-certificate-2015',
     'An event has at most one kzo:legalStatus'),
    ('EventShape', 'EventShape-stated-reason-iri.ttl', 'kz:event-shutdown-2022-01',
     'kzo:statedReason is a text literal'),
    ('EventShape', 'EventShape-consequence-place.ttl', 'kz:event-unrest-2022-01',
     'kzo:consequence must point to an event or a fact'),
    ('EventShape', 'EventShape-conflicts-with-fact.ttl', 'kz:event-officials-circumvent-ban',
     'An event can only conflict with another event'),
    ('EventShape', 'EventShape-temporal-note-untagged.ttl', 'kz:event-officials-circumvent-ban',
     'temporal note (kzo:temporalNote)'),
    ('EventShape', 'EventShape-label-untagged.ttl', 'kz:event-bank-run-2014',
     'English text literal tagged @en'),
    ('PeriodShape', 'PeriodShape-end-before-start-date-datetime.ttl', 'kz:event-shutdown-2022-01',
     'cannot end before it starts'),
    ('PeriodShape', 'PeriodShape-end-before-start-year-month.ttl', 'kz:licence-kcell-4g',
     'cannot end before it starts'),
    ('PeriodShape', 'PeriodShape-end-before-start-datetimes.ttl', 'kz:event-restoration-2022-01-07',
     'cannot end before it starts'),
    ('PeriodShape', 'PeriodShape-end-before-start-two-spellings.ttl', 'kz:event-restoration-2022-01-07',
     'cannot end before it starts'),
    ('TimeShape', 'TimeShape-datetime-without-zone.ttl', 'kz:event-restoration-2022-01-07',
     'must be given in UTC'),
    ('TimeShape', 'TimeShape-datetime-local-offset.ttl', 'kz:event-restoration-2022-01-07',
     'must be given in UTC'),
    ('TimeShape', 'TimeShape-datetime-offset-minus.ttl', 'kz:event-restoration-2022-01-07',
     'must be given in UTC'),
    ('TimeShape', 'TimeShape-datetime-offset-half-hour.ttl', 'kz:event-restoration-2022-01-07',
     'must be given in UTC'),
    ('TimeShape', 'TimeShape-datetime-fraction-without-zone.ttl', 'kz:event-restoration-2022-01-07',
     'must be given in UTC'),
    ('TimeShape', 'TimeShape-start-string.ttl', 'kz:event-throttling-2018',
     'kzo:start must be a valid'),
    ('TimeShape', 'TimeShape-end-integer.ttl', 'kz:event-4g-rollout',
     'kzo:end must be a valid'),
    ('TimeShape', 'TimeShape-as-of-invalid-date.ttl', 'kz:obs-internet-users-2009',
     'kzo:asOf must be a valid'),
    ('TimeShape', 'TimeShape-adopted-on-string.ttl', 'kz:law-sc-internet-ban-2005',
     'kzo:adoptedOn must be a valid'),
    ('TimeShape', 'TimeShape-in-force-from-datetime-string.ttl', 'kz:criminal-code',
     'kzo:inForceFrom must be a valid'),
    ('TimeShape', 'TimeShape-two-starts.ttl', 'kz:event-throttling-2018',
     'at most one kzo:start'),
    ('TimeShape', 'TimeShape-two-ends.ttl', 'kz:event-4g-rollout',
     'at most one kzo:end'),
    ('TimeShape', 'TimeShape-two-as-of.ttl', 'kz:event-bank-run-2014',
     'at most one kzo:asOf'),
    ('NetworkDisruptionShape', 'NetworkDisruptionShape-nowhere.ttl', 'kz:event-disruption-2019',
     'must say where or what was disrupted'),
    ('InternetShutdownShape', 'InternetShutdownShape-no-scope.ttl', 'kz:event-shutdown-2022-01-04-partial',
     'needs a kzo:scope'),
    ('ThrottlingShape', 'ThrottlingShape-nothing-slowed.ttl', 'kz:event-throttling-2018',
     'name what was slowed down'),
    ('ServiceBlockingShape', 'ServiceBlockingShape-nothing-blocked.ttl', 'kz:event-messaging-blocking-2022-01-06',
     'name the blocked platforms'),
    ('WebsiteBlockingShape', 'WebsiteBlockingShape-ordered-by-company.ttl', 'kz:event-website-blocking-2016',
     'blocked on the order of an authority'),
    ('RestorationShape', 'RestorationShape-within-political-event.ttl', 'kz:event-restoration-2022-01-07',
     'it must be kzo:partOf a kzo:NetworkDisruption'),
    ('RestorationShape', 'RestorationShape-outside-disruption.ttl', 'kz:event-restoration-2022-01-07',
     'it must be kzo:partOf a kzo:NetworkDisruption'),
    ('InterceptionAttemptShape', 'InterceptionAttemptShape-no-system.ttl', 'kz:event-certificate-2015',
     'the kzo:SurveillanceSystem'),
    ('NetworkLaunchShape', 'NetworkLaunchShape-nothing-launched.ttl', 'kz:event-iptv-launch-2009',
     'must say what was launched'),
    ('NumberingDecisionShape', 'NumberingDecisionShape-no-resource.ttl', 'kz:event-itu-allocates-997-2021',
     'which code or numbering resource'),
    ('OrganisationalChangeShape', 'OrganisationalChangeShape-no-organisation.ttl', 'kz:event-ministry-created-2010',
     'must name the organisations involved'),
    ('OrganisationalChangeShape', 'OrganisationalChangeShape-result-concept.ttl', 'kz:event-ministry-created-2010',
     'org:resultingOrganization must be the kzo:Organisation'),
    ('OrganisationalChangeShape', 'OrganisationalChangeShape-original-place.ttl', 'kz:event-ministry-created-2010',
     'org:originalOrganization must be a kzo:Organisation'),
    ('MilestoneShape', 'MilestoneShape-undated.ttl', 'kz:event-tld-registered-1994',
     'A milestone is a dated landmark'),
    ('MarketEventShape', 'MarketEventShape-no-market.ttl', 'kz:event-bank-run-2014',
     'which market it touched'),
    ('InfrastructureProjectShape', 'InfrastructureProjectShape-nothing-built.ttl', 'kz:event-4g-rollout',
     'what is being built'),
    ('PoliticalEventShape', 'PoliticalEventShape-nobody-nowhere.ttl', 'kz:event-unrest-2022-01',
     'who took part (kzo:participant) or where'),
    ('LegalProceedingShape', 'LegalProceedingShape-about-nothing.ttl', 'kz:event-rumour-case-2015',
     'must name its parties'),
    ('CyberIncidentTrendShape', 'CyberIncidentTrendShape-no-area.ttl', 'kz:event-cyberattack-rise-2025',
     'name the area where the attacks were counted'),
    ('ConceptShape', 'ConceptShape-no-scheme.ttl', 'kz:tech-4g',
     'must be skos:inScheme a skos:ConceptScheme'),
    ('ConceptShape', 'ConceptShape-scheme-is-concept.ttl', 'kz:tech-4g',
     'must be skos:inScheme a skos:ConceptScheme'),
    ('ConceptShape', 'ConceptShape-label-untagged.ttl', 'kz:lang-kazakh',
     'English text literal tagged @en'),
    ('ConceptShape', 'ConceptShape-altlabel-untagged.ttl', 'kz:tech-4g',
     'alternative name (skos:altLabel)'),
    ('ConceptSchemeShape', 'ConceptSchemeShape-missing-label.ttl', 'kz:scheme-test',
     'Every node needs an English name'),
    ('TechnologyShape', 'TechnologyShape-broader-service-type.ttl', 'kz:tech-4g',
     'broader concept of a technology'),
    ('ServiceTypeShape', 'ServiceTypeShape-broader-technology.ttl', 'kz:svc-mobile-internet',
     'broader concept of a service type'),
    ('MeasureShape', 'MeasureShape-broader-category.ttl', 'kz:measure-internet-users-share',
     'broader concept of a measure'),
    ('CategoryShape', 'CategoryShape-broader-technology.ttl', 'kz:cat-phishing',
     'broader concept of a category'),
    ('LanguageShape', 'LanguageShape-broader-technology.ttl', 'kz:lang-kazakh',
     'broader concept of a language'),
    ('ActorGroupShape', 'ActorGroupShape-broader-data-item.ttl', 'kz:grp-mobile-isps',
     'broader concept of an actor group'),
    ('DataItemShape', 'DataItemShape-broader-group.ttl', 'kz:data-ip-address',
     'broader concept of a data item'),
    ('InternetSpaceTermShape', 'InternetSpaceTermShape-refers-to-nothing.ttl', 'kz:term-kaznet',
     'whose internet it names'),
    ('InternetSpaceTermShape', 'InternetSpaceTermShape-refers-to-city.ttl', 'kz:term-kaznet',
     'whose internet it names'),
    ('CallingCodeShape', 'CallingCodeShape-no-plus.ttl', 'kz:cc-7',
     'A calling code needs exactly one kzo:codeValue'),
    ('CallingCodeShape', 'CallingCodeShape-two-values.ttl', 'kz:cc-7',
     'A calling code needs exactly one kzo:codeValue'),
    ('CallingCodeShape', 'CallingCodeShape-administered-for-city.ttl', 'kz:cc-7',
     'kzo:administeredFor of a calling code'),
    ('ZoneCodeShape', 'ZoneCodeShape-tagged-value.ttl', 'kz:zone-7xx',
     'A zone code needs exactly one kzo:codeValue'),
    ('ZoneCodeShape', 'ZoneCodeShape-bad-pattern.ttl', 'kz:zone-7xx',
     'A zone code needs exactly one kzo:codeValue'),
    ('ZoneCodeShape', 'ZoneCodeShape-used-for-technology.ttl', 'kz:zone-7xx',
     'kzo:usedFor of a zone code'),
    ('TopLevelDomainShape', 'TopLevelDomainShape-no-dot.ttl', 'kz:tld-kz',
     'A top-level domain needs exactly one kzo:codeValue'),
    ('TopLevelDomainShape', 'TopLevelDomainShape-no-value.ttl', 'kz:tld-kz',
     'A top-level domain needs exactly one kzo:codeValue'),
    ('TopLevelDomainShape', 'TopLevelDomainShape-administered-for-company.ttl', 'kz:tld-kz',
     'kzo:administeredFor of a top-level domain'),
    ('NumberingPlanShape', 'NumberingPlanShape-length-zero.ttl', 'kz:numbering-plan-kz',
     'exactly one kzo:numberLength'),
    ('NumberingPlanShape', 'NumberingPlanShape-length-decimal.ttl', 'kz:numbering-plan-kz',
     'exactly one kzo:numberLength'),
    ('NumberingPlanShape', 'NumberingPlanShape-no-length.ttl', 'kz:numbering-plan-kz',
     'exactly one kzo:numberLength'),
    ('NumberingPlanShape', 'NumberingPlanShape-administered-for-city.ttl', 'kz:numbering-plan-kz',
     'kzo:administeredFor of a numbering plan'),
    ('UnitShape', 'UnitShape-minted-in-graph.ttl', 'kz:unit-percent',
     'Units are a closed code list'),
    ('ValueQualifierShape', 'ValueQualifierShape-minted-in-graph.ttl', 'kz:qualifier-roughly',
     'Value qualifiers are a closed code list'),
    ('ObservationStatusShape', 'ObservationStatusShape-minted-in-graph.ttl', 'kz:status-provisional',
     'Observation statuses are a closed code list'),
    ('StakeKindShape', 'StakeKindShape-minted-in-graph.ttl', 'kz:stake-kind-majority',
     'Stake kinds are a closed code list'),
    ('LegalStatusShape', 'LegalStatusShape-minted-in-graph.ttl', 'kz:status-repealed',
     'Legal statuses are a closed code list'),
    ('ScopeShape', 'ScopeShape-minted-in-graph.ttl', 'kz:scope-regional',
     'Scopes are a closed code list'),
    ('PowerTypeShape', 'PowerTypeShape-minted-in-graph.ttl', 'kz:power-censorship',
     'Power types are a closed code list'),
    ('PenaltyTypeShape', 'PenaltyTypeShape-minted-in-graph.ttl', 'kz:penalty-confiscation',
     'Penalty types are a closed code list'),
    # coverage audit (cov-a): reports and their publishers, planned dates, who did what to whom
    ('ReportShape', 'ReportShape-no-publisher.ttl', 'kz:freedom-on-the-net',
     'A report needs its publisher'),
    ('ReportShape', 'ReportShape-no-source.ttl', 'kz:freedom-on-the-net',
     'A report must cite at least one source section'),
    ('ReportShape', 'ReportShape-bad-name.ttl', 'kz:Freedom_On_The_Net',
     'A report must be a kz: IRI with a flat'),
    ('ReportedInShape', 'ReportedInShape-not-a-report.ttl', 'kz:obs-freedom-rating-2021',
     'kzo:reportedIn must point to a kzo:Report'),
    ('PlannedTimeShape', 'PlannedTimeShape-planned-start-string.ttl', 'kz:event-cable-plan',
     'kzo:plannedStart is given once'),
    ('PlannedTimeShape', 'PlannedTimeShape-two-planned-ends.ttl', 'kz:event-cable-plan',
     'kzo:plannedEnd is given once'),
    ('ActorShape', 'ActorShape-actor-is-group.ttl', 'kz:event-competition-complaint',
     'kzo:actor must be the agent'),
    ('ActorShape', 'ActorShape-target-is-place.ttl', 'kz:event-competition-complaint',
     'kzo:target must be an agent, a kzo:ActorGroup or a country'),
    # --- coverage audit (cov-b) ---
    ('EventShape', 'EventShape-target-literal.ttl', 'kz:event-text-message-rumours-2014',
     'kzo:target must be a node'),
    ('EventShape', 'EventShape-channel-place.ttl', 'kz:event-text-message-rumours-2014',
     'kzo:channel must be the medium'),
    ('EventShape', 'EventShape-opposed-by-service.ttl', 'kz:event-text-message-rumours-2014',
     'kzo:opposedBy must name an agent or a kzo:ActorGroup'),
    ('EventShape', 'EventShape-reported-by-group-agent.ttl', 'kz:event-text-message-rumours-2014',
     'kzo:reportedByGroup must be a kzo:ActorGroup'),
    ('ClaimShape', 'ClaimShape-no-claimant.ttl', 'kz:claim-shutdowns-violate-rights',
     'A claim must say whose it is'),
    ('ClaimShape', 'ClaimShape-about-nothing.ttl', 'kz:claim-shutdowns-violate-rights',
     'A claim must name, with kzo:concerns'),
]

#: Classes with no instance of their own in good.ttl: abstract ones (the shapes require a subclass)
#: and the closed code lists, whose members live in the ontology.
ABSTRACT = {"Agent", "Place", "Source"}


@lru_cache(maxsize=None)
def ontology() -> rdflib.Graph:
    return parse_turtle(paths.ontology_file())


@lru_cache(maxsize=None)
def shapes() -> rdflib.Graph:
    return parse_turtle(paths.shapes_file())


@lru_cache(maxsize=None)
def good_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph += ontology()
    return parse_turtle(DATA / "good.ttl", into=graph)


def validate(data: rdflib.Graph) -> list[Violation]:
    return shacl_violations(data, shapes(), ontology())


def replace_nodes(base: rdflib.Graph, broken: rdflib.Graph) -> rdflib.Graph:
    """``base`` with every node that ``broken`` describes replaced by ``broken``'s description."""
    graph = rdflib.Graph()
    graph += base
    for subject in set(broken.subjects()):
        if not isinstance(subject, BNode):
            graph.remove((subject, None, None))
    graph += broken
    return graph


@lru_cache(maxsize=None)
def broken_graph(name: str) -> rdflib.Graph:
    return parse_turtle(DATA / name)


@lru_cache(maxsize=None)
def isolated_violations(name: str) -> tuple[Violation, ...]:
    """Violations of good.ttl with the nodes described in ``name`` replaced by that file."""
    return tuple(validate(replace_nodes(good_graph(), broken_graph(name))))


# A whole validation costs about a second, so the broken examples are validated in batches: examples
# that cannot see each other share one graph. An edit of node X can only produce violations on X, on
# nodes that point to X (sh:class, paths through kzo:partOf) and on nodes X points to through the
# inverse paths the shapes use (^kzo:hasPart, kzo:conflictsWith pointing back): that is the zone its
# violations are attributed to. Two examples share a batch when their zones are disjoint and neither
# edits a node the other points to. test_batching_matches_isolation checks the equivalence on
# examples of every kind of edit.
INVERSE_READ = (rdflib.URIRef(KZO + "hasPart"), rdflib.URIRef(KZO + "partOf"), rdflib.URIRef(KZO + "conflictsWith"))


def _short_focus(node) -> str:
    from kzgraph.namespaces import shorten

    return "[blank node]" if isinstance(node, BNode) else shorten(str(node))


@lru_cache(maxsize=None)
def good_data() -> rdflib.Graph:
    return parse_turtle(DATA / "good.ttl")


def footprint(name: str, focus: str) -> tuple[frozenset, frozenset, frozenset]:
    """(edited nodes, attribution zone, nodes the example points to), as short names."""
    broken = broken_graph(name)
    touched = {s for s in broken.subjects() if not isinstance(s, BNode)}
    zone, refs = set(touched), set()
    for graph in (good_data(), broken):
        for node in touched:
            zone |= set(graph.subjects(None, node))
            refs |= set(graph.objects(node, None))
            for prop in INVERSE_READ:
                zone |= set(graph.objects(node, prop))
    refs |= set(broken.objects())
    names = lambda nodes: frozenset(_short_focus(n) for n in nodes if not isinstance(n, rdflib.Literal))
    zone_names = names(zone) | {focus}
    if any(isinstance(s, BNode) for s in broken.subjects()):
        zone_names |= {"[blank node]"}
    return names(touched), zone_names, names(refs)


@lru_cache(maxsize=None)
def batches() -> tuple[tuple[tuple[str, ...], rdflib.Graph, tuple[Violation, ...]], ...]:
    """(names, graph, pySHACL's violations) for every batch of broken examples."""
    prints = {name: footprint(name, focus) for _, name, focus, _ in CASES}

    def compatible(a, b):
        (ta, za, ra), (tb, zb, rb) = prints[a], prints[b]
        return za.isdisjoint(zb) and ta.isdisjoint(rb) and tb.isdisjoint(ra)

    batches: list[list[str]] = []
    for _, name, _, _ in CASES:
        for batch in batches:
            if all(compatible(name, other) for other in batch):
                batch.append(name)
                break
        else:
            batches.append([name])
    out = []
    for batch in batches:
        graph = good_graph()
        for name in batch:
            graph = replace_nodes(graph, broken_graph(name))
        out.append((tuple(batch), graph, tuple(validate(graph))))
    return tuple(out)


@lru_cache(maxsize=None)
def batched_violations() -> dict[str, tuple[Violation, ...]]:
    prints = {name: footprint(name, focus) for _, name, focus, _ in CASES}
    found: dict[str, list[Violation]] = {}
    for batch, _, violations in batches():
        for name in batch:
            found[name] = [v for v in violations if v.focus in prints[name][1]]
        stray = [v for v in violations if not any(v.focus in prints[name][1] for name in batch)]
        for name in batch:  # a violation nobody can explain fails every example of its batch
            found[name] += stray
    return {name: tuple(sorted(found[name])) for name in found}


def broken_violations(name: str) -> tuple[Violation, ...]:
    return batched_violations()[name]


def short(node) -> str:
    return shapes().namespace_manager.normalizeUri(node) if not isinstance(node, BNode) else "[blank node]"


def node_shapes() -> set[str]:
    graph = shapes()
    return {str(s).removeprefix(str(KZSH)) for s in graph.subjects(RDF.type, SH.NodeShape)}


def members(shape: str) -> set[str]:
    """The shape and its property shapes, as `Violation.shape` names them."""
    node = KZSH[shape]
    return {f"kzsh:{shape}"} | {short(p) for p in shapes().objects(node, SH.property)}


def kzo_classes() -> set[str]:
    onto = ontology()
    return {str(c).removeprefix(KZO) for c in onto.subjects(RDF.type, OWL.Class) if str(c).startswith(KZO)}


# --------------------------------------------------------------------------------------------
# The shapes file itself
# --------------------------------------------------------------------------------------------

def test_shapes_header():
    graph = shapes()
    header = rdflib.URIRef(str(KZSH))
    assert (header, RDF.type, OWL.Ontology) in graph
    assert any(label.language == "en" for label in graph.objects(header, RDFS.label))


def test_every_class_has_its_shape():
    graph = shapes()
    missing = sorted(c for c in kzo_classes()
                     if (KZSH[f"{c}Shape"], SH.targetClass, rdflib.URIRef(KZO + c)) not in graph)
    assert missing == [], f"kzo: classes without a kzsh:<Class>Shape: {missing}"


NODE_LEVEL = (SH["or"], SH["and"], SH["not"], SH.xone, SH.closed, SH.pattern, SH["in"], SH["class"],
              SH.datatype, SH.nodeKind, SH.hasValue, SH.node)


def test_every_constraint_has_a_message():
    graph = shapes()
    silent = []
    for prop in set(graph.subjects(RDF.type, SH.PropertyShape)):
        if graph.value(prop, SH.message) is None:
            silent.append(short(prop))
    for node in set(graph.subjects(RDF.type, SH.NodeShape)):
        if any(graph.value(node, p) is not None for p in NODE_LEVEL) and graph.value(node, SH.message) is None:
            silent.append(short(node))
        for prop in graph.objects(node, SH.property):
            if graph.value(prop, SH.message) is None:
                silent.append(f"{short(node)} → {short(prop)}")
    for sparql in set(graph.objects(None, SH.sparql)):
        if graph.value(sparql, SH.message) is None:
            silent.append(short(sparql))
    for message in graph.objects(None, SH.message):
        assert message.language == "en" and len(message) > 20, message
    assert sorted(silent) == [], f"constraints without sh:message: {sorted(silent)}"


# --------------------------------------------------------------------------------------------
# The good example and the broken examples
# --------------------------------------------------------------------------------------------

def test_good_example_conforms():
    violations = validate(good_graph())
    assert violations == [], "\n".join(v.text() for v in violations)


def test_good_example_has_every_class():
    graph = good_graph()
    instantiated = {str(o).removeprefix(KZO) for o in graph.objects(None, RDF.type)}
    assert sorted(kzo_classes() - instantiated - ABSTRACT) == []


@pytest.mark.parametrize("shape, name, focus, phrase", CASES, ids=[row[1][:-4] for row in CASES])
def test_broken_example_is_rejected(shape, name, focus, phrase):
    violations = broken_violations(name)
    report = "\n".join(f"{v.text()}  [{v.shape}]" for v in violations) or "(no violations)"
    hits = [v for v in violations if v.focus == focus and phrase in v.message]
    assert hits, f"{name}: expected a violation on {focus} saying {phrase!r}, got:\n{report}"
    assert any(v.shape in members(shape) for v in hits), (
        f"{name}: the violation should come from kzsh:{shape} or its property shapes, got:\n{report}")
    others = [v for v in violations if v.focus != focus]
    assert others == [], f"{name}: broken in more than one place:\n{report}"


def test_every_shape_has_a_broken_example():
    covered = {row[0] for row in CASES}
    assert sorted(node_shapes() - covered) == [], "node shapes that no broken example exercises"
    assert sorted(covered - node_shapes()) == [], "cases name shapes that do not exist"
    files = {p.name for p in DATA.glob("*.ttl")} - {"good.ttl"}
    assert files == {row[1] for row in CASES}, "every example file is in the table, and only those"


def test_required_cases_are_present():
    """The cases the graph's conventions single out must stay in the table."""
    names = {row[1] for row in CASES}
    for required in ("OwnershipStakeShape-share-149.ttl", "PeriodShape-end-before-start-date-datetime.ttl",
                     "OwnershipStakeShape-no-owner.ttl", "ProvenanceShape-fact-without-source.ttl",
                     "OwnershipStakeShape-share-string.ttl", "TimeShape-datetime-without-zone.ttl",
                     "AgentShape-missing-label.ttl", "AgentShape-label-not-english.ttl",
                     "AgentShape-two-labels.ttl", "ObservationSignShape-negative-count.ttl",
                     "ObservationPercentShape-percent-over-100.ttl", "DraftLawShape-in-force.ttl",
                     "BrandShape-no-company.ttl", "SourceSectionShape-no-document.ttl"):
        assert required in names, required


def test_every_message_is_exercised():
    """Every constraint rejects at least one broken example (none is dead or unreachable)."""
    import re

    produced = {v.message for row in CASES for v in broken_violations(row[1])}
    silent = []
    for message in {str(m) for m in shapes().objects(None, SH.message)}:
        template = re.compile(re.sub(r"\\\{\\\?\w+\\\}", ".*", re.escape(message)) + "$")
        if not any(template.match(text) for text in produced):
            silent.append(message)
    assert sorted(silent) == []


#: One example of each kind of edit: removed and changed properties, new nodes, a blank node,
#: retyped nodes, an edit whose violation lands on another node, and inverse paths.
ISOLATION_SAMPLE = ("OwnershipStakeShape-share-149.ttl", "AgentShape-only-agent.ttl", "IdentifierShape-blank-node.ttl",
                    "PersonShape-also-organisation.ttl", "ConflictShape-one-way.ttl", "RestorationShape-outside-disruption.ttl",
                    "InternetShutdownShape-no-scope.ttl", "EventShape-has-part-company.ttl", "UnitShape-minted-in-graph.ttl",
                    "MiningPoolShape-also-operator.ttl", "DecisionShape-issued-by-person.ttl",
                    "CompanyShape-brand-is-company.ttl", "TimeShape-as-of-invalid-date.ttl")


@pytest.mark.parametrize("name", ISOLATION_SAMPLE)
def test_batching_matches_isolation(name):
    assert batched_violations()[name] == isolated_violations(name)


# --------------------------------------------------------------------------------------------
# The real graph
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def real_graph() -> tuple[rdflib.Graph, dict]:
    """The ontology and graph/*.ttl merged as the pipeline does, with the file of every subject."""
    from kzgraph.build import input_files, read

    return read(input_files())


def test_every_real_node_is_checked():
    """Every typed kz: node has a type that some shape targets (a kzo: class or a SKOS class)."""
    graph, _ = real_graph()
    targeted = {str(c) for c in shapes().objects(None, SH.targetClass)}
    unchecked = []
    for node in set(graph.subjects(RDF.type, None)):
        if str(node).startswith(KZ):
            types = set(graph.transitive_objects(node, RDF.type)) | {
                sup for t in graph.objects(node, RDF.type) for sup in graph.transitive_objects(t, RDFS.subClassOf)}
            if not {str(t) for t in types} & targeted:
                unchecked.append(short(node))
    assert sorted(unchecked) == [], f"kz: nodes that no shape targets: {sorted(unchecked)}"


def test_real_graph_conforms():
    graph, origin = real_graph()
    started = time.perf_counter()
    violations = shacl_violations(graph, shapes(), ontology(), origin)
    elapsed = time.perf_counter() - started
    print(f"validated {len(graph)} triples in {elapsed:.1f} s")
    assert violations == [], f"{len(violations)} violation(s):\n" + "\n".join(v.text() for v in violations)


# --------------------------------------------------------------------------------------------
# Lexical forms: the shapes give the same answer whichever legal spelling a tool hands them
# --------------------------------------------------------------------------------------------

CONFORMING = DATA / "conforming"

#: Broken examples about literals (datatypes, patterns, ranges, time zones, order of times): they
#: are validated once more with rdflib's and pySHACL's own defaults (below), where rdflib rewrites
#: lexical forms ("…Z" → "…+00:00", "1"^^xsd:boolean → "true", ...).
LEXICAL_PREFIXES = ("TimeShape-", "PeriodShape-", "OwnershipStakeShape-share", "OwnershipStakeShape-max",
                    "OwnershipStakeShape-min", "OwnershipStakeShape-bounds", "ObservationShape-value",
                    "ObservationSignShape-", "ObservationPercentShape-", "NumberingPlanShape-length",
                    "SourceSectionShape-order", "PenaltyShape-amount", "PenaltyShape-term",
                    "CallingCodeShape-no-plus", "TopLevelDomainShape-no-dot", "ZoneCodeShape-bad-pattern",
                    "SourceDocumentShape-bad-checksum")
LEXICAL_CASES = [row for row in CASES if row[1].startswith(LEXICAL_PREFIXES)]


def test_conforming_variants_exist():
    names = sorted(p.name for p in CONFORMING.glob("*.ttl"))
    assert {"TimeShape-offset-plus-zero.ttl", "TimeShape-offset-minus-zero-fraction.ttl",
            "PeriodShape-same-instant-two-spellings.ttl"} <= set(names), names


@pytest.mark.parametrize("name", sorted(p.name for p in CONFORMING.glob("*.ttl")))
def test_conforming_variant(name):
    """Other legal spellings of what good.ttl says ("+00:00", "-00:00", fractions) conform."""
    graph = replace_nodes(good_graph(), parse_turtle(CONFORMING / name))
    violations = validate(graph)
    assert violations == [], f"{name}:\n" + "\n".join(v.text() for v in violations)


#: Runs in a fresh interpreter that imports only rdflib and pyshacl: rdflib.Graph().parse() and
#: pyshacl.validate() with their defaults, as a user's own script would. Prints JSON:
#: {"normalised": [...], "real": [results], "cases": {file: [[focus, shape, message], ...]}}.
STOCK_SCRIPT = r'''
import json, sys
from pathlib import Path
import rdflib, pyshacl
from rdflib import BNode, Literal, Namespace
SH = Namespace("http://www.w3.org/ns/shacl#")
ontology, shapes, good, real_dir, out = (Path(a) for a in sys.argv[1:6])
cases = [Path(a) for a in sys.argv[6:]]

def results(data):
    conforms, report, _ = pyshacl.validate(data, shacl_graph=str(shapes), inference="none")
    rows = []
    for r in report.subjects(SH.resultSeverity, None):
        focus, shape = report.value(r, SH.focusNode), report.value(r, SH.sourceShape)
        rows.append(["[blank node]" if isinstance(focus, BNode) else str(focus),
                     "[blank node]" if isinstance(shape, BNode) else str(shape),
                     str(report.value(r, SH.resultMessage))])
    assert conforms == (rows == [])
    return sorted(rows)

real = rdflib.Graph().parse(ontology)
for path in sorted(real_dir.glob("*.ttl")):
    real.parse(path)
base = rdflib.Graph().parse(ontology).parse(good)
normalised = sorted(str(o) for o in real.objects() if isinstance(o, Literal) and str(o).endswith("+00:00"))
found = {}
for path in cases:
    broken = rdflib.Graph().parse(path)
    data = rdflib.Graph()
    data += base
    for s in set(broken.subjects()):
        if not isinstance(s, BNode):
            data.remove((s, None, None))
    data += broken
    found[path.name] = results(data)
out.write_text(json.dumps({"flag": rdflib.NORMALIZE_LITERALS, "normalised": normalised,
                           "real": results(real), "cases": found}))
'''


@lru_cache(maxsize=None)
def stock_results() -> dict:
    import json
    import subprocess
    import sys
    import tempfile

    files = [DATA / row[1] for row in LEXICAL_CASES] + sorted(CONFORMING.glob("*.ttl"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        proc = subprocess.run(
            [sys.executable, "-c", STOCK_SCRIPT, str(paths.ontology_file()), str(paths.shapes_file()),
             str(DATA / "good.ttl"), str(paths.graph_files()[0].parent), str(out), *map(str, files)],
            capture_output=True, text=True, cwd=tmp)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(out.read_text())


def test_stock_rdflib_rewrites_the_times():
    """The trap is really exercised: rdflib's defaults hand pySHACL "+00:00" for the graph's "Z"."""
    result = stock_results()
    assert result["flag"] is True
    assert len(result["normalised"]) == 3, result["normalised"]


def test_real_graph_conforms_with_stock_rdflib_and_pyshacl():
    assert stock_results()["real"] == []


@pytest.mark.parametrize("name", sorted(p.name for p in CONFORMING.glob("*.ttl")))
def test_conforming_variant_with_stock_rdflib_and_pyshacl(name):
    assert stock_results()["cases"][name] == []


@pytest.mark.parametrize("shape, name, focus, phrase", LEXICAL_CASES, ids=[row[1][:-4] for row in LEXICAL_CASES])
def test_broken_literal_rejected_with_stock_rdflib_and_pyshacl(shape, name, focus, phrase):
    """Broken literals stay broken when rdflib normalises them: other offsets, no zone, strings."""
    rows = stock_results()["cases"][name]
    full = focus.replace("kz:", KZ)
    hits = [row for row in rows if row[0] == full and phrase in row[2]]
    assert hits, f"{name}: expected a violation on {focus} saying {phrase!r}, got {rows}"
    allowed = {str(KZSH) + m.removeprefix("kzsh:") for m in members(shape)}
    assert any(row[1] in allowed for row in hits), (name, rows)
    assert [row for row in rows if row[0] != full] == [], (name, rows)
