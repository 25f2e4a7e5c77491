"""Survey-weighted composite indices, rankings with rank uncertainty and inspection compliance.

Pure statistics over plain arrays (numpy, scipy, statsmodels): nothing here imports the service. The design object
follows R's `survey` package (Lumley 2010); every estimator's docstring names its reference.
"""

# --- part A: survey designs, weights, composite index, city results, sensitivity (survey/weights/index/cities/sensitivity)
from .cities import CityResults as CityResults
from .cities import NationalComparison as NationalComparison
from .cities import NodeResults as NodeResults
from .cities import PairwiseComparison as PairwiseComparison
from .cities import city_results as city_results
from .cities import combine_city_weights as combine_city_weights
from .cities import compare_to_national as compare_to_national
from .cities import national_figure as national_figure
from .cities import pairwise_differences as pairwise_differences

# --- end part A
# --- part B: ranks with confidence sets, drivers, inspections, data quality (ranking/drivers/inspection/quality)
from .drivers import QUADRANTS as QUADRANTS
from .drivers import DriverAnalysis as DriverAnalysis
from .drivers import DriverCoefficient as DriverCoefficient
from .drivers import QuadrantPoint as QuadrantPoint
from .drivers import alpha_by_dimension as alpha_by_dimension
from .drivers import cronbach_alpha as cronbach_alpha
from .drivers import importance_performance as importance_performance
from .drivers import key_drivers as key_drivers
from .drivers import relative_weights as relative_weights
from .index import IndexNode as IndexNode
from .index import IndexResult as IndexResult
from .index import ItemSpec as ItemSpec
from .index import compute_index as compute_index
from .index import effective_weights as effective_weights
from .index import normalise_minmax as normalise_minmax
from .index import normalise_zscore as normalise_zscore
from .index import parse_index_tree as parse_index_tree
from .index import score_items as score_items
from .inspection import Check as Check
from .inspection import NamedVenue as NamedVenue
from .inspection import ProblemRate as ProblemRate
from .inspection import VenueInspection as VenueInspection
from .inspection import VenueResult as VenueResult
from .inspection import named_venues as named_venues
from .inspection import problem_rates as problem_rates
from .inspection import score_venue as score_venue
from .inspection import score_venues as score_venues
from .quality import QualityReport as QualityReport
from .quality import flag_missing as flag_missing
from .quality import flag_speeding as flag_speeding
from .quality import flag_straightlining as flag_straightlining
from .quality import quality_report as quality_report
from .ranking import DEFAULT_MIN_SAMPLE as DEFAULT_MIN_SAMPLE
from .ranking import CityRanking as CityRanking
from .ranking import ExcludedCity as ExcludedCity
from .ranking import RankConfidenceSets as RankConfidenceSets
from .ranking import RankedCity as RankedCity
from .ranking import point_ranks as point_ranks
from .ranking import rank_cities as rank_cities
from .ranking import rank_confidence_sets as rank_confidence_sets
from .ranking import rank_tiers as rank_tiers
from .sensitivity import SensitivityResult as SensitivityResult
from .sensitivity import weight_sensitivity as weight_sensitivity
from .survey import DomainEstimates as DomainEstimates
from .survey import Estimate as Estimate
from .survey import InsufficientDataError as InsufficientDataError
from .survey import LonelyPSUError as LonelyPSUError
from .survey import MultiEstimate as MultiEstimate
from .survey import ProportionEstimate as ProportionEstimate
from .survey import SurveyDesign as SurveyDesign
from .survey import wilson_interval as wilson_interval
from .weights import CalibrationError as CalibrationError
from .weights import RakeResult as RakeResult
from .weights import TrimResult as TrimResult
from .weights import design_weights as design_weights
from .weights import kish_deff as kish_deff
from .weights import kish_effective_n as kish_effective_n
from .weights import poststratify_weights as poststratify_weights
from .weights import rake_weights as rake_weights
from .weights import trim_weights as trim_weights
# --- end part B
