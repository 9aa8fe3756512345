"""Sales: products, the pipeline, leads and their assignment rules, deals, quotes, contracts.

The routes validate with the sales service's own contract (``schemas.py``), which also builds
their OpenAPI description, then forward the client's JSON unchanged: the service validates
again, checks record-level access and the business rules, and answers.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway import exports, forwarding
from gateway.auth import login_required
from gateway.forwarding import IF_MATCH_DOC, query_args, request_body, versioned_body
from gateway.pagination import page_schema
from services.sales import schemas as s

blp = Blueprint("sales", __name__, description="Leads, deals, quotes, contracts and products")


def sales(method: str, *args):
    """Call the sales service and answer its result as JSON."""
    return forwarding.answer("sales", method, *args)


def created(method: str, *args, location_endpoint: str, id_arg: str):
    return forwarding.created("sales", method, *args, location_endpoint=location_endpoint,
                              id_arg=id_arg)


# -- products --------------------------------------------------------------------------------
@blp.route("/products")
class Products(MethodView):
    @login_required()
    @blp.arguments(s.ProductListQuerySchema, location="query")
    @blp.response(200, page_schema(s.ProductSchema))
    def get(self, _args):
        """The product catalogue."""
        return sales("list_products", query_args())

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.ProductCreateSchema)
    @blp.response(201, s.ProductSchema)
    def post(self, _data):
        """Add a product (admins and managers); the SKU is unique."""
        return created("create_product", request_body(),
                       location_endpoint="sales.Product", id_arg="product_id")


@blp.route("/products/<uuid:product_id>")
class Product(MethodView):
    @login_required()
    @blp.response(200, s.ProductSchema)
    def get(self, product_id):
        """One product."""
        return sales("get_product", str(product_id))

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.ProductUpdateSchema(partial=("version",)))
    @blp.response(200, s.ProductSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, product_id):
        """Change a product (deals keep the prices they were given)."""
        return sales("update_product", str(product_id), versioned_body())


# -- pipeline --------------------------------------------------------------------------------
@blp.route("/pipeline/stages")
class PipelineStages(MethodView):
    @login_required()
    @blp.response(200, s.PipelineSchema)
    def get(self):
        """The pipeline's stages in order, each with its win probability."""
        return sales("get_pipeline")

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.PipelineSchema)
    @blp.response(200, s.PipelineSchema)
    def put(self, _data):
        """Replace the stages (admin); won and lost stay; a stage a deal is in cannot go."""
        return sales("set_pipeline", request_body())


@blp.route("/pipeline/board")
class PipelineBoard(MethodView):
    @login_required()
    @blp.arguments(s.BoardQuerySchema, location="query")
    @blp.response(200, s.BoardSchema)
    def get(self, _args):
        """The pipeline board in one answer: each stage with the count and totals (per
        currency, and weighted by its probability) of every deal you may see in it, and its
        most recently changed deals."""
        return sales("pipeline_board", query_args())


# -- leads -----------------------------------------------------------------------------------
@blp.route("/leads")
class Leads(MethodView):
    @login_required()
    @blp.arguments(s.LeadListQuerySchema, location="query")
    @blp.response(200, page_schema(s.LeadSchema))
    def get(self, _args):
        """The leads you may see, filtered, sorted and paginated."""
        return sales("list_leads", query_args())

    @blp.alt_response(409, response="CONFLICT")
    @login_required()
    @blp.arguments(s.LeadCreateSchema)
    @blp.response(201, s.LeadWithDuplicatesSchema)
    def post(self, _data):
        """Capture a lead: a rep owns what they create; with a team and no owner, the team's
        rule assigns it. One whose company (compared as customers' names are), email or
        phone is that of leads or customers you may see answers 409 ``duplicate`` with them as
        ``matches``, unless the body says ``"allow_duplicate": true`` (the matching leads
        then come back as ``duplicates``)."""
        return created("create_lead", request_body(),
                       location_endpoint="sales.Lead", id_arg="lead_id")


@blp.route("/leads/export")
class LeadsExport(MethodView):
    @login_required()
    @blp.arguments(exports.query_schema(s.LeadExportQuerySchema), location="query")
    @blp.doc(**exports.DOWNLOAD_DOC)
    def get(self, _args):
        """Download the leads you may see, filtered as the list, as CSV or XLSX: the columns
        import reads."""
        return exports.download("sales", "export_leads", "leads", s.TRANSFER_COLUMNS)


@blp.route("/leads/<uuid:lead_id>")
class Lead(MethodView):
    @login_required()
    @blp.response(200, s.LeadSchema)
    def get(self, lead_id):
        """One lead."""
        return sales("get_lead", str(lead_id))

    @login_required()
    @blp.arguments(s.LeadUpdateSchema(partial=("version",)))
    @blp.response(200, s.LeadSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, lead_id):
        """Change or reassign a lead (a converted lead no longer changes)."""
        return sales("update_lead", str(lead_id), versioned_body())


@blp.route("/leads/<uuid:lead_id>/convert")
class LeadConversion(MethodView):
    @login_required()
    @blp.arguments(s.ConvertLeadSchema)
    @blp.response(200, s.ConversionSchema)
    def post(self, _data, lead_id):
        """Convert a lead into a customer, its primary contact and a deal, once (409 after)."""
        return sales("convert_lead", str(lead_id), request_body())


@blp.route("/assignment-rules")
class AssignmentRules(MethodView):
    @login_required()
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, page_schema(s.AssignmentRuleSchema))
    def get(self, _args):
        """Each team's lead assignment rule (yours, or all for admins and analysts)."""
        return sales("list_assignment_rules", query_args())


@blp.route("/assignment-rules/<uuid:team_id>")
class AssignmentRule(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.AssignmentRulePutSchema)
    @blp.response(200, s.AssignmentRuleSchema)
    def put(self, _data, team_id):
        """Set a team's rule (admin, or that team's manager)."""
        return sales("put_assignment_rule", str(team_id), request_body())


# -- deals -----------------------------------------------------------------------------------
@blp.route("/deals")
class Deals(MethodView):
    @login_required()
    @blp.arguments(s.DealListQuerySchema, location="query")
    @blp.response(200, page_schema(s.DealSchema))
    def get(self, _args):
        """The deals you may see, filtered, sorted and paginated."""
        return sales("list_deals", query_args())

    @login_required()
    @blp.arguments(s.DealCreateSchema)
    @blp.response(201, s.DealSchema)
    def post(self, _data):
        """Open a deal with a customer you may see; with lines, the amount is their sum."""
        return created("create_deal", request_body(),
                       location_endpoint="sales.Deal", id_arg="deal_id")


@blp.route("/deals/<uuid:deal_id>")
class Deal(MethodView):
    @login_required()
    @blp.response(200, s.DealSchema)
    def get(self, deal_id):
        """One deal."""
        return sales("get_deal", str(deal_id))

    @login_required()
    @blp.arguments(s.DealUpdateSchema(partial=("version",)))
    @blp.response(200, s.DealSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, deal_id):
        """Change a deal (not its stage); a won or lost deal's lines and amount are frozen."""
        return sales("update_deal", str(deal_id), versioned_body())


@blp.route("/deals/<uuid:deal_id>/stage")
class DealStage(MethodView):
    @login_required()
    @blp.arguments(s.StageMoveSchema)
    @blp.response(200, s.DealSchema)
    def post(self, _data, deal_id):
        """Move a deal to a stage: won needs an amount, lost a reason; moving back reopens."""
        return sales("move_deal_stage", str(deal_id), request_body())


@blp.route("/deals/<uuid:deal_id>/history")
class DealHistory(MethodView):
    @login_required()
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, page_schema(s.StageChangeSchema))
    def get(self, _args, deal_id):
        """Every stage move of the deal: from, to, when and who."""
        return sales("deal_history", str(deal_id), query_args())


# -- quotes ----------------------------------------------------------------------------------
@blp.route("/deals/<uuid:deal_id>/quotes")
class DealQuotes(MethodView):
    @login_required()
    @blp.arguments(s.QuoteListQuerySchema, location="query")
    @blp.response(200, page_schema(s.QuoteSchema))
    def get(self, _args, deal_id):
        """The deal's quotes."""
        return sales("list_quotes", str(deal_id), query_args())

    @login_required()
    @blp.arguments(s.QuoteCreateSchema)
    @blp.response(201, s.QuoteSchema)
    def post(self, _data, deal_id):
        """A draft quote from the deal's lines, numbered Q-<year>-<n>."""
        return created("create_quote", str(deal_id), request_body(),
                       location_endpoint="sales.Quote", id_arg="quote_id")


@blp.route("/quotes/<uuid:quote_id>")
class Quote(MethodView):
    @login_required()
    @blp.response(200, s.QuoteSchema)
    def get(self, quote_id):
        """One quote (past valid_until, a draft or sent quote reads as expired)."""
        return sales("get_quote", str(quote_id))

    @login_required()
    @blp.arguments(s.QuoteUpdateSchema(partial=("version",)))
    @blp.response(200, s.QuoteSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, quote_id):
        """Send, accept (rejecting the deal's other open quotes) or reject; edit a draft."""
        return sales("update_quote", str(quote_id), versioned_body())


# -- contracts -------------------------------------------------------------------------------
@blp.route("/contracts")
class Contracts(MethodView):
    @login_required()
    @blp.arguments(s.ContractListQuerySchema, location="query")
    @blp.response(200, page_schema(s.ContractSchema))
    def get(self, _args):
        """The contracts you may see."""
        return sales("list_contracts", query_args())

    @login_required()
    @blp.arguments(s.ContractCreateSchema)
    @blp.response(201, s.ContractSchema)
    def post(self, _data):
        """A contract from a won deal, or directly for a customer you may see."""
        return created("create_contract", request_body(),
                       location_endpoint="sales.Contract", id_arg="contract_id")


@blp.route("/contracts/<uuid:contract_id>")
class Contract(MethodView):
    @login_required()
    @blp.response(200, s.ContractSchema)
    def get(self, contract_id):
        """One contract."""
        return sales("get_contract", str(contract_id))

    @login_required()
    @blp.arguments(s.ContractUpdateSchema(partial=("version",)))
    @blp.response(200, s.ContractSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, contract_id):
        """Change dates or amount, or terminate."""
        return sales("update_contract", str(contract_id), versioned_body())
